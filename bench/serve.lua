-- wrk script: POST the AdmissionReview in $BODY to the URL given to wrk.
local f = assert(io.open(os.getenv("BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
wrk.headers["Content-Type"] = "application/json"
f:close()

-- any non-2xx answer is counted and printed at the end
local bad = 0
response = function(status, headers, body)
	if status ~= 200 then bad = bad + 1 end
end
done = function(summary, latency, requests)
	io.write(string.format("non-200: %d\n", bad))
end

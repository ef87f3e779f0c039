module kubetenant.test/csrnames

go 1.19

module kubetenant/bench/goweb

go 1.19

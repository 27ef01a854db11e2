module example.com/tolk

go 1.19

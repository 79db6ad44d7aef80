module listen

go 1.19

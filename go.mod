module github.com/objgraph-go/objgraph

go 1.26

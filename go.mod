module github.com/objgraph-go/objgraph

go 1.26

require github.com/klauspost/compress v1.20.3

require github.com/spf13/pflag v1.1.0 // indirect

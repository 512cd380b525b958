// Command scaleacross plans frontier-LLM training across data centers and
// serving with speculative decoding. See README.md.
package main

import (
	"os"

	"github.com/scaleacross/scaleacross/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}

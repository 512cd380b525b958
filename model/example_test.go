package model_test

import (
	"fmt"

	"github.com/scaleacross/scaleacross/model"
)

func ExampleLookup() {
	m, err := model.Lookup("llama4-maverick")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: %.1fB total, %.1fB active per token\n", m.ID, float64(m.TotalParams())/1e9, float64(m.ActiveParams())/1e9)
	fmt.Printf("KV cache per token per layer (bf16): %.0f bytes\n", float64(m.KVElementsPerTokenLayer())*2)

	_, err = model.Lookup("llama4-maverik")
	fmt.Println(err)
	// Output:
	// llama4-maverick: 400.7B total, 17.2B active per token
	// KV cache per token per layer (bf16): 4096 bytes
	// unknown model id "llama4-maverik"; nearest known ids: llama4-maverick, llama4-behemoth, llama4-scout
}

func ExampleImportHF() {
	config := []byte(`{
		"model_type": "mixtral",
		"hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
		"num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 32000,
		"num_local_experts": 8, "num_experts_per_tok": 2, "max_position_embeddings": 32768
	}`)
	m, err := model.ImportHF(config, "my-mixtral")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: %.1fB total, %.1fB active\n", m.ID, float64(m.TotalParams())/1e9, float64(m.ActiveParams())/1e9)

	_, err = model.ImportHF([]byte(`{"model_type": "mixtral", "hidden_size": 0}`), "broken")
	fmt.Println(err)
	// Output:
	// my-mixtral: 46.7B total, 12.9B active
	// config.json field hidden_size: must be positive, got 0
}

//go:build !wasip1

package tmtest

import "encoding/json"

func jsonMarshal(v map[string]any) ([]byte, error) {
	if v == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(v)
}

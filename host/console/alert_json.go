package console

import (
	"encoding/json"
	"math"
)

// MarshalJSON writes a value the analyzer did not give (NaN) or an
// infinite one as null: encoding/json refuses both, which would drop the
// alert from the API and the stream.
func (a Alert) MarshalJSON() ([]byte, error) {
	type plain Alert // no methods, so no recursion
	num := func(v float64) *float64 {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return &v
	}
	return json.Marshal(struct {
		plain
		Observed *float64 `json:"observed"`
		Expected *float64 `json:"expected"`
		Lower    *float64 `json:"lower"`
		Upper    *float64 `json:"upper"`
	}{plain(a), num(a.Observed), num(a.Expected), num(a.Lower), num(a.Upper)})
}

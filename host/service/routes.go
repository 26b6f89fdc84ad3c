package service

import (
	"encoding/json"
	"net/http"
)

// routes is the JSON API the console reads.
func (s *Service) routes() map[string]http.Handler {
	return map[string]http.Handler{
		"GET /api/windows": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(s.RecentWindows())
		}),
	}
}

// Package consumer is a small program's HTTP code written against net/http,
// run on libhttpx through httpx.Transport: an example of using the binding
// from another module by its module path.
package consumer

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	httpx "libhttpx.org/go/httpx"
)

// NewHTTPClient is an *http.Client that sends with libhttpx.
func NewHTTPClient() *http.Client {
	return &http.Client{Transport: &httpx.Transport{}, Timeout: 30 * time.Second}
}

// Item is what the API returns.
type Item struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

// FetchItem GETs baseURL/items/{id} and decodes the JSON answer.
func FetchItem(ctx context.Context, c *http.Client, baseURL string, id int) (*Item, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/items/%d", baseURL, id), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("items/%d: %s", id, resp.Status)
	}
	var it Item
	if err := json.NewDecoder(resp.Body).Decode(&it); err != nil {
		return nil, err
	}
	return &it, nil
}

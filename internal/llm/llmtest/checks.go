package llmtest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// schemaNameRE is what OpenAI accepts as a json_schema name.
var schemaNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`) //nolint:gochecknoglobals // compiled once, read-only

// checkChat returns what is wrong with a chat completion request, in the
// words a developer needs to fix the adapter.
func (s *Server) checkChat(req ChatRequest) []string {
	var problems []string
	if req.Model != s.ChatModel {
		problems = append(problems, fmt.Sprintf("model is %q, want %q", req.Model, s.ChatModel))
	}
	if req.StreamOptions != nil && !req.Stream {
		// OpenAI refuses this request with a 400 in exactly this case.
		problems = append(problems, "stream_options is only allowed when stream is true")
	}
	if req.MaxTokens < 0 || req.MaxCompletionTokens < 0 {
		problems = append(problems, "max_tokens must not be negative")
	}
	if len(req.Messages) == 0 {
		problems = append(problems, "messages is empty")
	}
	var mentionsJSON bool
	for i, m := range req.Messages {
		switch m.Role {
		case "system":
			if i != 0 {
				problems = append(problems, fmt.Sprintf("message %d: the system message must come first", i))
			}
		case "user", "assistant":
		default:
			problems = append(problems, fmt.Sprintf("message %d: role %q, want system, user or assistant", i, m.Role))
		}
		if strings.TrimSpace(m.Content) == "" {
			problems = append(problems, fmt.Sprintf("message %d (%s): content is empty", i, m.Role))
		}
		if strings.Contains(strings.ToLower(m.Content), "json") {
			mentionsJSON = true
		}
	}

	rf := req.ResponseFormat
	if rf == nil {
		return problems
	}
	switch rf.Type {
	case "text":
	case "json_object":
		if !mentionsJSON {
			// OpenAI refuses this request with a 400 in exactly this case.
			problems = append(problems,
				"'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'")
		}
	case "json_schema":
		js := rf.JSONSchema
		if js == nil {
			problems = append(problems, "response_format json_schema without a json_schema object")
			break
		}
		if !schemaNameRE.MatchString(js.Name) {
			problems = append(problems, fmt.Sprintf("json_schema name %q must match %s", js.Name, schemaNameRE))
		}
		if !js.Strict {
			problems = append(problems, "json_schema strict is false, want true")
		}
		problems = append(problems, checkSchema(js.Schema)...)
	default:
		problems = append(problems, fmt.Sprintf("response_format type %q, want text, json_object or json_schema", rf.Type))
	}
	return problems
}

// checkSchema checks a json_schema's schema: valid JSON, an object at the
// root, and OpenAI's strict-mode rules for every object inside (all
// properties required, additionalProperties false).
func checkSchema(raw json.RawMessage) []string {
	var root map[string]any
	if err := json.Unmarshal(raw, &root); err != nil {
		return []string{fmt.Sprintf("json_schema schema is not a JSON object: %v", err)}
	}
	if root["type"] != "object" {
		return []string{fmt.Sprintf(`json_schema schema has "type": %v, want "object"`, root["type"])}
	}
	var problems []string
	walkSchema("#", root, &problems)
	return problems
}

// walkSchema applies the strict-mode rules to the schema at path and
// everything nested in it.
func walkSchema(path string, node map[string]any, problems *[]string) {
	if props, ok := node["properties"].(map[string]any); ok {
		if node["additionalProperties"] != false {
			*problems = append(*problems, fmt.Sprintf(
				"strict json_schema: %s: additionalProperties must be false", path))
		}
		required := map[string]bool{}
		if list, ok := node["required"].([]any); ok {
			for _, r := range list {
				if name, ok := r.(string); ok {
					required[name] = true
				}
			}
		}
		for name, sub := range props {
			if !required[name] {
				*problems = append(*problems, fmt.Sprintf(
					"strict json_schema: %s: property %q must be listed in required", path, name))
			}
			if m, ok := sub.(map[string]any); ok {
				walkSchema(path+"/properties/"+name, m, problems)
			}
		}
	}
	if items, ok := node["items"].(map[string]any); ok {
		walkSchema(path+"/items", items, problems)
	}
	for _, key := range []string{"anyOf", "allOf", "oneOf"} {
		if list, ok := node[key].([]any); ok {
			for i, sub := range list {
				if m, ok := sub.(map[string]any); ok {
					walkSchema(fmt.Sprintf("%s/%s/%d", path, key, i), m, problems)
				}
			}
		}
	}
	for _, key := range []string{"$defs", "definitions"} {
		if defs, ok := node[key].(map[string]any); ok {
			for name, sub := range defs {
				if m, ok := sub.(map[string]any); ok {
					walkSchema(path+"/"+key+"/"+name, m, problems)
				}
			}
		}
	}
}

// checkEmbed returns what is wrong with an embeddings request.
func (s *Server) checkEmbed(req EmbedRequest) []string {
	var problems []string
	if req.Model != s.EmbedModel {
		problems = append(problems, fmt.Sprintf("model is %q, want %q", req.Model, s.EmbedModel))
	}
	if len(req.Input) == 0 {
		problems = append(problems, "input is empty")
	}
	if len(req.Input) > 2048 {
		problems = append(problems, fmt.Sprintf("input has %d items; OpenAI accepts at most 2048", len(req.Input)))
	}
	for i, in := range req.Input {
		if in == "" {
			problems = append(problems, fmt.Sprintf("input %d is an empty string, which OpenAI refuses", i))
		}
	}
	if req.Dimensions < 0 {
		problems = append(problems, "dimensions must not be negative")
	}
	if req.EncodingFormat != "" && req.EncodingFormat != "float" {
		problems = append(problems, fmt.Sprintf("encoding_format %q; the fake server returns floats only", req.EncodingFormat))
	}
	return problems
}

// decodeEmbed decodes an embeddings request, whose input may be one string
// or a list of strings.
func decodeEmbed(body []byte) (EmbedRequest, error) {
	var raw struct {
		Dimensions     int             `json:"dimensions"`
		EncodingFormat string          `json:"encoding_format"`
		Input          json.RawMessage `json:"input"`
		Model          string          `json:"model"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return EmbedRequest{}, err
	}
	req := EmbedRequest{Dimensions: raw.Dimensions, EncodingFormat: raw.EncodingFormat, Model: raw.Model}
	var one string
	if err := json.Unmarshal(raw.Input, &one); err == nil {
		req.Input = []string{one}
		return req, nil
	}
	if err := json.Unmarshal(raw.Input, &req.Input); err != nil {
		return EmbedRequest{}, fmt.Errorf("input must be a string or a list of strings: %w", err)
	}
	return req, nil
}

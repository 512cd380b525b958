package ui

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"

	"github.com/scaleacross/scaleacross/fault"
	"github.com/scaleacross/scaleacross/spec"
	"github.com/scaleacross/scaleacross/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configure a Server.
type Options struct {
	// Examples is the directory the serving page offers specs from
	// (serve-*.yaml); empty means "examples".
	Examples string
}

// Server serves the dashboard over one study database.
type Server struct {
	db       *store.DB
	pages    map[string]*template.Template
	examples string
	mux      *http.ServeMux
}

// pageNames are the templates under templates/, one per page.
func pageNames() []string {
	return []string{"studies", "study", "candidate", "whatif", "compare", "serving", "error"}
}

// New builds a Server over db, which should be opened with
// store.OpenReadOnly; the Server does not close it.
func New(db *store.DB, opt Options) (*Server, error) {
	s := &Server{db: db, pages: map[string]*template.Template{}, examples: opt.Examples}
	if s.examples == "" {
		s.examples = "examples"
	}
	for _, name := range pageNames() {
		t, err := template.New(name).Funcs(funcs()).ParseFS(templateFS, "templates/base.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parsing the %s page template: %w", name, err)
		}
		s.pages[name] = t
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("embedded assets: %w", err)
	}
	m := http.NewServeMux()
	m.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	m.HandleFunc("GET /{$}", s.handle("studies", s.studiesPage))
	m.HandleFunc("GET /studies/{id}", s.handle("study", s.studyPage))
	m.HandleFunc("GET /studies/{id}/{space}/{index}", s.handle("candidate", s.candidatePage))
	m.HandleFunc("GET /studies/{id}/{space}/{index}/whatif", s.handle("whatif", s.whatIfPage))
	m.HandleFunc("GET /studies/{id}/{space}/{index}/trace.json", s.traceFile)
	m.HandleFunc("GET /studies/{id}/{space}/{index}/spec.yaml", s.specFile)
	m.HandleFunc("GET /compare", s.handle("compare", s.comparePage))
	m.HandleFunc("GET /serving", s.handle("serving", s.servingPage))
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, &httpError{http.StatusNotFound, fmt.Sprintf("no page at %s (see / for the studies)", r.URL.Path)})
	})
	s.mux = m
	return s, nil
}

// ServeHTTP serves the dashboard.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.fail(w, r, &httpError{http.StatusMethodNotAllowed, "the dashboard is read-only: only GET requests"})
		return
	}
	s.mux.ServeHTTP(w, r)
}

// httpError is a failed request with its status code.
type httpError struct {
	Status int
	Msg    string
}

func (e *httpError) Error() string { return e.Msg }

// notFound and badRequest build request errors.
func notFound(format string, args ...any) error {
	return &httpError{http.StatusNotFound, fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) error {
	return &httpError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// statusOf maps an error to an HTTP status: unknown ids are 404, other
// bad input (package fault's kind, or a spec that cannot be read) 400,
// the rest 500.
func statusOf(err error) int {
	var he *httpError
	var nf *store.NotFoundError
	var cnf *store.CandidateNotFoundError
	var se *spec.Error
	switch {
	case errors.As(err, &he):
		return he.Status
	case errors.As(err, &nf), errors.As(err, &cnf):
		return http.StatusNotFound
	case errors.Is(err, fault.ErrBadInput), errors.As(err, &se):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// errorPage is the data of an error response.
type errorPage struct {
	Status int    `json:"status"`
	Error  string `json:"error"`
}

// Title names the page.
func (e errorPage) Title() string { return http.StatusText(e.Status) }

// wantsJSON reports whether the request asks for JSON.
func wantsJSON(r *http.Request) bool {
	return r.URL.Query().Get("format") == "json" || strings.Contains(r.Header.Get("Accept"), "application/json")
}

// handle turns a page builder into a handler that answers HTML or JSON.
func (s *Server) handle(page string, build func(*http.Request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		data, err := build(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.write(w, r, http.StatusOK, page, data)
	}
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	st := statusOf(err)
	s.write(w, r, st, "error", errorPage{Status: st, Error: err.Error()})
}

// write renders data as JSON or with the page's template; rendering into
// a buffer first means a template error is a clean 500.
func (s *Server) write(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	w.Header().Set("Cache-Control", "no-store")
	if wantsJSON(r) {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetIndent("", "  ")
		if err := enc.Encode(data); err != nil {
			http.Error(w, "encoding JSON: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(b.String()))
		return
	}
	var b strings.Builder
	if err := s.pages[page].ExecuteTemplate(&b, "base", data); err != nil {
		http.Error(w, "rendering the page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

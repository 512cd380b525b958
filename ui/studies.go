package ui

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/scaleacross/scaleacross/explore"
	"github.com/scaleacross/scaleacross/spec"
	"github.com/scaleacross/scaleacross/store"
	"github.com/scaleacross/scaleacross/topology"
)

// StudyRow is one study of the list.
type StudyRow struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	Model   string `json:"model"`
	GPUs    int    `json:"gpus"`
	Status  string `json:"status"`
	Created string `json:"created"`
	// Sites is the number of sites joined at the outermost cross-site
	// level (1 when the topology has none).
	Sites int `json:"sites"`
	// SiteLevel names that level ("" if none).
	SiteLevel    string  `json:"site_level"`
	BestStepS    float64 `json:"best_step_time_s"`
	SpeedupProd  float64 `json:"speedup_vs_production"`
	SpeedupPrior float64 `json:"speedup_vs_prior_art"`
	// Progress is the fraction of candidates evaluated, for a study whose
	// spaces' sizes are known; Evaluated counts them.
	Progress  float64 `json:"progress"`
	Evaluated int     `json:"evaluated"`
}

// StudiesPage is the list of studies.
type StudiesPage struct {
	Database string     `json:"database"`
	Query    string     `json:"query"`
	Sort     string     `json:"sort"`
	Desc     bool       `json:"desc"`
	Studies  []StudyRow `json:"studies"`
}

// Title names the page.
func (StudiesPage) Title() string { return "Studies" }

// studySorts are the sort keys of the list.
func studySorts() map[string]func(a, b StudyRow) int {
	return map[string]func(a, b StudyRow) int{
		"id":      func(a, b StudyRow) int { return cmp.Compare(a.ID, b.ID) },
		"created": func(a, b StudyRow) int { return cmp.Compare(a.Created, b.Created) },
		"model":   func(a, b StudyRow) int { return cmp.Compare(a.Model, b.Model) },
		"gpus":    func(a, b StudyRow) int { return cmp.Compare(a.GPUs, b.GPUs) },
		"sites":   func(a, b StudyRow) int { return cmp.Compare(a.Sites, b.Sites) },
		"best":    func(a, b StudyRow) int { return cmp.Compare(a.BestStepS, b.BestStepS) },
		"prod":    func(a, b StudyRow) int { return cmp.Compare(a.SpeedupProd, b.SpeedupProd) },
		"prior":   func(a, b StudyRow) int { return cmp.Compare(a.SpeedupPrior, b.SpeedupPrior) },
		"status":  func(a, b StudyRow) int { return cmp.Compare(a.Status, b.Status) },
	}
}

func (s *Server) studiesPage(r *http.Request) (any, error) {
	q := r.URL.Query()
	p := StudiesPage{Database: s.db.Path(), Query: strings.TrimSpace(q.Get("q")), Sort: q.Get("sort"), Desc: q.Get("desc") == "1"}
	if p.Sort == "" {
		p.Sort, p.Desc = "id", true
	}
	by, ok := studySorts()[p.Sort]
	if !ok {
		return nil, badRequest("sort: want one of id, created, model, gpus, sites, best, prod, prior, status; got %q", p.Sort)
	}
	list, err := s.db.List()
	if err != nil {
		return nil, err
	}
	p.Studies = []StudyRow{}
	for _, st := range list {
		row, err := s.studyRow(r, st)
		if err != nil {
			return nil, err
		}
		if p.Query != "" && !matches(row, p.Query) {
			continue
		}
		p.Studies = append(p.Studies, row)
	}
	slices.SortStableFunc(p.Studies, func(a, b StudyRow) int {
		c := by(a, b)
		if c == 0 {
			c = cmp.Compare(a.ID, b.ID)
		}
		if p.Desc {
			return -c
		}
		return c
	})
	return p, nil
}

// matches reports whether the study's name, model, status or id contains
// the query (case-insensitive).
func matches(r StudyRow, q string) bool {
	q = strings.ToLower(q)
	for _, f := range []string{r.Name, r.Model, r.Status, strconv.FormatInt(r.ID, 10), r.SiteLevel} {
		if strings.Contains(strings.ToLower(f), q) {
			return true
		}
	}
	return false
}

func (s *Server) studyRow(r *http.Request, st store.Study) (StudyRow, error) {
	row := StudyRow{ID: st.ID, Name: st.Name, Model: st.Model, GPUs: st.GPUs, Status: st.Status, Created: st.Created,
		BestStepS: st.BestStepS, SpeedupProd: st.SpeedupProd, SpeedupPrior: st.SpeedupPrior, Sites: 1}
	row.Sites, row.SiteLevel = sitesOf(st.Spec)
	prog, err := s.db.Progress(r.Context(), st.ID)
	if err != nil {
		return row, err
	}
	row.Evaluated, row.Progress = progressOf(st, prog)
	return row, nil
}

// progressOf sums the evaluated candidates and estimates the fraction
// done: complete studies are 1; otherwise spaces not yet started or of
// unknown size count as zero done.
func progressOf(st store.Study, prog []explore.State) (int, float64) {
	n, done, total := 0, 0, 0
	for _, p := range prog {
		n += p.Evaluated
		if p.Candidates > 0 {
			total += p.Candidates
			done += min(p.Next, p.Candidates)
		}
	}
	if st.Status == store.StatusComplete {
		return n, 1
	}
	if total == 0 {
		return n, 0
	}
	return n, float64(done) / float64(total)
}

// sitesOf reads the number of sites and the name of the outermost level
// joining them from a stored spec (1 and "" when it has no such level).
func sitesOf(specText string) (int, string) {
	j, err := spec.ParseJob([]byte(specText))
	if err != nil {
		return 1, ""
	}
	i := siteLevel(j)
	if i < 0 {
		return 1, ""
	}
	t, _ := topology.FromSpec(j.System.Topology, j.System.GPUs)
	return t.Sites(), t.Levels[i].Name
}

// siteLevel is the index of the outermost level of the job's topology
// that joins sites (topology.Topology.SiteLevels), or -1.
func siteLevel(j *spec.Job) int {
	if j.System.Topology == nil {
		return -1
	}
	t, err := topology.FromSpec(j.System.Topology, j.System.GPUs)
	if err != nil {
		return -1
	}
	if s := t.SiteLevels(); len(s) > 0 {
		return s[len(s)-1]
	}
	return -1
}

// loadStudy reads the study named by the {id} path value and its plan
// (nil while the study is not complete).
func (s *Server) loadStudy(r *http.Request) (store.Study, *explore.Plan, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return store.Study{}, nil, notFound("no study %q: study ids are positive integers", r.PathValue("id"))
	}
	st, err := s.db.Study(id)
	if err != nil {
		return store.Study{}, nil, err
	}
	if st.Result == "" {
		return st, nil, nil
	}
	var p explore.Plan
	if err := json.Unmarshal([]byte(st.Result), &p); err != nil {
		return st, nil, fmt.Errorf("study %d: stored result: %w", st.ID, err)
	}
	return st, &p, nil
}

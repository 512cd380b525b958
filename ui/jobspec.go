package ui

import (
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/scaleacross/scaleacross/explore"
	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/model"
	"github.com/scaleacross/scaleacross/spec"
	"github.com/scaleacross/scaleacross/timeline"
	"github.com/scaleacross/scaleacross/train"
)

// candidateJob turns a study's stored spec and one of its candidates into
// the complete job spec that `scaleacross simulate` would take for it:
// the degrees, placement, schedule, micro-batch, recomputation, transport
// and collective algorithm fixed, the search block dropped.
func candidateJob(specText string, c explore.Candidate) (*spec.Job, error) {
	j, err := spec.ParseJob([]byte(specText))
	if err != nil {
		return nil, fmt.Errorf("the study's stored spec: %w", err)
	}
	return explore.CandidateJob(j, c), nil
}

// jobYAML is the job spec as YAML.
func jobYAML(j *spec.Job) (string, error) {
	data, err := yaml.Marshal(j)
	if err != nil {
		return "", fmt.Errorf("encoding the job spec: %w", err)
	}
	return string(data), nil
}

// simulation is one run of the step model on a job.
type simulation struct {
	Config *train.Config
	Engine string
	Result train.Result
	// Timeline is the event-level record (event engine only).
	Timeline *timeline.Timeline
	// Note says why the engine differs from the one asked for.
	Note string
}

// simulate resolves the job and predicts its step with the named engine
// ("event" or "analytic"). When the event engine cannot build the
// schedule it falls back to the analytic model and says so.
func simulate(j *spec.Job, engine string) (*simulation, error) {
	cfg, err := train.Resolve(j, model.Load, hardware.Lookup)
	if err != nil {
		return nil, err
	}
	s := &simulation{Config: cfg, Engine: engine}
	switch engine {
	case train.EngineEvent:
		res, tl, err := train.EventTimeline(cfg)
		if err == nil {
			s.Result, s.Timeline = res, tl.Tracks()
			return s, nil
		}
		s.Note = fmt.Sprintf("the event engine cannot run this configuration (%v); the analytic model priced it", err)
		s.Engine = train.EngineAnalytic
	case train.EngineAnalytic:
	default:
		return nil, badRequest("engine: want event or analytic, got %q", engine)
	}
	if s.Result, err = train.Analytic(cfg); err != nil {
		return nil, err
	}
	return s, nil
}

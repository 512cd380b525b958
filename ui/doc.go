// Package ui is the local web dashboard behind `scaleacross ui`: a pure-Go
// HTTP server (net/http, html/template, assets embedded, nothing fetched
// from the internet) over a study database opened read-only, plus what-if
// re-simulation of stored candidates and serving sweeps.
//
// Every page is one more renderer of one data struct: the handler builds
// the page's struct from the store and the library packages (explore,
// train, infer), then writes it as HTML, or as JSON when the request asks
// with "Accept: application/json" or "?format=json". Charts are drawn
// server-side as SVG (report, timeline), so every page works without
// JavaScript; a small script only adds zoom and pan to the Gantt chart.
//
// The server never writes: the store is opened with store.OpenReadOnly,
// and every request reads the database afresh, so a plan running in
// another process shows its progress as it commits its batches.
package ui

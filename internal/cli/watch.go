package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/journal"
)

// currentView is what a run that is not over is doing now: status shows
// it, and status --watch follows it.
type currentView struct {
	Run       string           `json:"run"`
	Operation string           `json:"operation"`
	State     journal.RunState `json:"state"`
	// Step is the step in progress (started, or being undone), Number its
	// place among Of steps; empty while paused or waiting.
	Step        string    `json:"step,omitempty"`
	Number      int       `json:"number,omitempty"`
	Of          int       `json:"of"`
	Description string    `json:"description,omitempty"`
	Since       time.Time `json:"since,omitzero"`
	// Reason says why a paused or waiting run stands still.
	Reason string    `json:"reason,omitempty"`
	DueAt  time.Time `json:"dueAt,omitzero"`
}

// current is r's currentView, or nil when r is over.
func current(r *journal.Run) *currentView {
	if r == nil || r.State.Final() {
		return nil
	}
	c := &currentView{Run: r.ID, Operation: r.Operation, State: r.State, Of: len(r.Steps), Reason: redactText(r.Reason), DueAt: r.DueAt}
	want := journal.Started
	if r.State == journal.RollingBack {
		want = journal.Undoing
	}
	for i := range r.Steps {
		st := &r.Steps[i]
		if st.State != want {
			continue
		}
		c.Step, c.Number, c.Description, c.Since = st.Name, i+1, redactText(st.Description), st.StartedAt
		if want == journal.Undoing && !st.UndoStartedAt.IsZero() {
			c.Since = st.UndoStartedAt
		}
		break
	}
	return c
}

// text says what the run does now, with how long the step has taken.
func (c *currentView) text(now time.Time) string {
	took := ""
	if c.Step != "" && !c.Since.IsZero() {
		took = fmt.Sprintf(" for %s", now.Sub(c.Since).Truncate(time.Second))
	}
	return c.say(took)
}

// lineText is text without the time taken: it changes only with the run.
func (c *currentView) lineText() string { return c.say("") }

func (c *currentView) say(took string) string {
	head := fmt.Sprintf("run %s (%s) %s", c.Run, c.Operation, c.State)
	switch {
	case c.Step != "":
		return fmt.Sprintf("%s: step %d/%d %s%s: %s", head, c.Number, c.Of, c.Step, took, c.Description)
	case c.Reason != "":
		return head + ": " + c.Reason
	}
	return head
}

// watchSource is what status --watch reads and shows.
type watchSource[T any] struct {
	kind, name string
	read       func(context.Context) (T, error)
	// render writes the whole view (as status prints it); line is one
	// line of it for a log, and changes only when the view does.
	render func(io.Writer, T) error
	line   func(T) string
}

// watch shows src until ctx ends or, on a terminal, until q is pressed:
// refreshed in place on a terminal; off one (piped, CI), a line (or with
// -o, a document) each time the view changes.
func watch[T any](ctx context.Context, g *Global, every time.Duration, src watchSource[T]) error {
	if f, ok := g.out.(*os.File); ok && term.IsTerminal(int(f.Fd())) && !g.structured() && os.Getenv("CI") == "" {
		return watchTerminal(ctx, g, f, every, src)
	}
	last, lastErr := "", ""
	for first := true; ; first = false {
		if !first && clock.Sleep(ctx, g.clock, every) != nil {
			return nil
		}
		v, err := src.read(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if msg := redactErr(err); msg != lastErr {
				fmt.Fprintf(g.err, "%s %s\n", g.clock.Now().Format(time.TimeOnly), msg)
				lastErr = msg
			}
			continue
		}
		lastErr = ""
		if g.structured() {
			raw, _ := json.Marshal(v)
			if string(raw) != last {
				if err := g.emit(src.kind, src.name, v); err != nil {
					return err
				}
				last = string(raw)
			}
			continue
		}
		if l := src.line(v); l != last {
			fmt.Fprintf(g.out, "%s %s\n", g.clock.Now().Format(time.TimeOnly), l)
			last = l
		}
	}
}

// watchModel is status --watch on a terminal.
type watchModel[T any] struct {
	ctx   context.Context
	g     *Global
	every time.Duration
	src   watchSource[T]
	body  string
	err   error
	at    time.Time
}

type (
	readMsg[T any] struct {
		v   T
		err error
	}
	tickMsg struct{}
)

func (m watchModel[T]) fetch() tea.Msg {
	v, err := m.src.read(m.ctx)
	return readMsg[T]{v, err}
}

func (m watchModel[T]) Init() tea.Cmd { return m.fetch }

func (m watchModel[T]) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		switch msg.String() {
		case "q", "esc", "ctrl+c":
			return m, tea.Quit
		}
	case readMsg[T]:
		m.at, m.err = m.g.clock.Now(), msg.err
		if msg.err == nil {
			var b bytes.Buffer
			if err := m.src.render(&b, msg.v); err != nil {
				m.err = err
			} else {
				m.body = b.String()
			}
		}
		return m, tea.Tick(m.every, func(time.Time) tea.Msg { return tickMsg{} })
	case tickMsg:
		return m, m.fetch
	}
	return m, nil
}

func (m watchModel[T]) View() tea.View {
	var b strings.Builder
	fmt.Fprintf(&b, "Every %s: %s %s   (q to quit)   %s\n\n", m.every, m.src.kind, m.src.name, m.at.Format(time.TimeOnly))
	if m.err != nil {
		fmt.Fprintf(&b, "! %s\n\n", redactErr(m.err))
	}
	b.WriteString(m.body)
	v := tea.NewView(b.String())
	// The whole screen, as watch(1) and top use it: every frame is drawn
	// at absolute positions, so nothing of an earlier, shorter or longer
	// frame stays behind, and the shell's screen comes back on q.
	v.AltScreen = true
	return v
}

func watchTerminal[T any](ctx context.Context, g *Global, f *os.File, every time.Duration, src watchSource[T]) error {
	in := g.in
	if in == nil {
		in = os.Stdin
	}
	p := tea.NewProgram(watchModel[T]{ctx: ctx, g: g, every: every, src: src},
		tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(f))
	_, err := p.Run()
	if errors.Is(err, tea.ErrProgramKilled) || errors.Is(err, tea.ErrInterrupted) || ctx.Err() != nil {
		return nil
	}
	return err
}

// watchFlags are status's --watch and --interval.
type watchFlags struct {
	on    bool
	every time.Duration
}

func (w *watchFlags) bind(cmd *cobra.Command) {
	cmd.Flags().BoolVarP(&w.on, "watch", "w", false,
		"keep watching: the view refreshed in place on a terminal (q quits), a line per change otherwise (with -o, a document per change); Ctrl-C stops")
	cmd.Flags().DurationVar(&w.every, "interval", 2*time.Second, "how often --watch reads")
}

func (w watchFlags) check() error {
	if w.on && w.every <= 0 {
		return usageErr("--interval %s: want a positive duration, e.g. 2s", w.every)
	}
	return nil
}

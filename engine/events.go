package engine

import "time"

// Event is a value the engine publishes on a Bus. The concrete types below are
// the whole set; subscribers switch on them.
type Event interface{ event() }

// Phase distinguishes main steps from after-steps.
type Phase int

const (
	PhaseMain Phase = iota
	PhaseAfter
)

func (p Phase) String() string {
	if p == PhaseAfter {
		return "after-step"
	}
	return "step"
}

// StepRef identifies a step of the run: its phase and its index in the list
// that RunStarted announced for that phase.
type StepRef struct {
	Phase Phase
	Index int
	Name  string
}

// StepInfo describes a step before it runs.
type StepInfo struct {
	ID   string
	Name string
}

// StepStatus is the state of a step.
type StepStatus int

const (
	StepWaiting StepStatus = iota
	StepRunning
	StepPassed
	StepFailed
	StepSkipped
	StepInterrupted
	StepPaused
)

func (s StepStatus) String() string {
	return [...]string{"waiting", "running", "passed", "failed", "skipped", "interrupted", "paused"}[s]
}

// Stream names where a log line came from.
type Stream int

const (
	Stdout Stream = iota
	Stderr
	// System lines are werk's own messages about a step or the run.
	System
)

func (s Stream) String() string {
	return [...]string{"stdout", "stderr", "system"}[s]
}

// RunStarted is published once, after the pipeline and its steps are known and
// before any container exists.
type RunStarted struct {
	RunID      string
	Command    string
	Pipeline   string
	Box        string
	Services   []string
	Steps      []StepInfo
	AfterSteps []StepInfo
	Time       time.Time
}

// SetupProgress reports a setup phase such as pulling an image or copying the
// source. Done is false when the phase starts and true when it ends.
type SetupProgress struct {
	Phase    string
	Detail   string
	Done     bool
	Duration time.Duration
	Time     time.Time
}

// ServiceStatus is the state of a service container.
type ServiceStatus int

const (
	ServiceStarting ServiceStatus = iota
	ServiceRunning
	ServiceExited
	ServiceFailed
	ServiceRemoved
)

func (s ServiceStatus) String() string {
	return [...]string{"starting", "running", "exited", "failed", "removed"}[s]
}

// ServiceState reports a change of a service container.
type ServiceState struct {
	Alias  string
	Image  string
	Status ServiceStatus
	// Detail is the container address when running, or the reason of a failure.
	Detail string
	Time   time.Time
}

// StepStarted is published when a step begins to run.
type StepStarted struct {
	Step StepRef
	Time time.Time
}

// StepFinished is published when a step ends, whatever the outcome.
type StepFinished struct {
	Step     StepRef
	Status   StepStatus
	ExitCode int
	// Message is the failure reason: the step's message file, or what werk saw.
	Message  string
	Duration time.Duration
	Time     time.Time
}

// LogLine is one line of output. Step is the step that was running; for
// service output Service is set instead. Text has no trailing newline.
type LogLine struct {
	Step    StepRef
	Service string
	Stream  Stream
	Text    string
	Time    time.Time
}

// Notice is a message from werk about the run that is not a step's output:
// warnings, cleanup, the reason of an interrupt.
type Notice struct {
	Level NoticeLevel
	Text  string
	Time  time.Time
}

// NoticeLevel ranks a Notice.
type NoticeLevel int

const (
	NoticeInfo NoticeLevel = iota
	NoticeWarn
	NoticeError
)

// PortStatus is the state of a published port.
type PortStatus int

const (
	PortStarting PortStatus = iota
	PortReady
	PortFailed
)

func (s PortStatus) String() string {
	return [...]string{"starting", "ready", "failed"}[s]
}

// PortState reports a published port: starting until a TCP connection to the
// host side succeeds, then ready; failed with the reason when it could not be
// bound.
type PortState struct {
	ContainerPort string
	HostIP        string
	HostPort      string
	URL           string
	Status        PortStatus
	Detail        string
	Time          time.Time
}

// ReloadResult is the outcome of one reload of a watched command.
type ReloadResult int

const (
	ReloadStarted ReloadResult = iota
	ReloadRunning
	ReloadExited
	ReloadKilled
	ReloadFailed
)

func (r ReloadResult) String() string {
	return [...]string{"started", "running", "exited", "killed", "failed"}[r]
}

// Reload reports one restart of a watched command. The watch step publishes
// one Reload with Result ReloadStarted when a burst of changes triggers it,
// and another with the final state of that instance.
type Reload struct {
	Step     StepRef
	Seq      int
	Files    []string
	Result   ReloadResult
	ExitCode int
	Detail   string
	// Duration is the time from the trigger until the new instance ran.
	Duration time.Duration
	Time     time.Time
}

// Result is the outcome of a run.
type Result int

const (
	ResultPassed Result = iota
	ResultFailed
	ResultInterrupted
)

func (r Result) String() string {
	return [...]string{"passed", "failed", "interrupted"}[r]
}

// RunFinished is published once, after cleanup.
type RunFinished struct {
	Result   Result
	ExitCode int
	// Err is the setup error or the failed step's reason; nil when passed.
	Err      error
	Duration time.Duration
	// Kept lists containers, networks and volumes left in place by --no-remove.
	Kept []string
	Time time.Time
}

// LogsDropped reports to a lossy subscriber how many log lines it missed because it
// fell behind. The lines are still in the run's log file.
type LogsDropped struct {
	Count int
}

func (RunStarted) event()    {}
func (SetupProgress) event() {}
func (ServiceState) event()  {}
func (StepStarted) event()   {}
func (StepFinished) event()  {}
func (LogLine) event()       {}
func (Notice) event()        {}
func (PortState) event()     {}
func (Reload) event()        {}
func (RunFinished) event()   {}
func (LogsDropped) event()   {}

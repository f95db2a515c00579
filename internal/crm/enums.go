package crm

import "slices"

// ActivityType is what kind of touch an activity records.
type ActivityType string

// Activity types, as API.md lists them.
const (
	ActivityCall      ActivityType = "call"
	ActivityEmail     ActivityType = "email"
	ActivityMeeting   ActivityType = "meeting"
	ActivityNote      ActivityType = "note"
	ActivityVoicemail ActivityType = "voicemail"
	ActivityLinkedIn  ActivityType = "linkedin"
	ActivitySMS       ActivityType = "sms"
	ActivityHandoff   ActivityType = "handoff"
	ActivityTask      ActivityType = "task"
)

// ActivityTypes lists every valid ActivityType in a stable order.
var ActivityTypes = []ActivityType{
	ActivityCall, ActivityEmail, ActivityMeeting, ActivityNote, ActivityVoicemail,
	ActivityLinkedIn, ActivitySMS, ActivityHandoff, ActivityTask,
}

// Valid reports whether t is a known type.
func (t ActivityType) Valid() bool { return slices.Contains(ActivityTypes, t) }

// TakesDisposition reports whether activities of this type may carry a
// disposition code: calls and the voicemails a dialer leaves.
func (t ActivityType) TakesDisposition() bool { return t == ActivityCall || t == ActivityVoicemail }

// Direction says who started a touch.
type Direction string

// Directions.
const (
	DirectionInbound  Direction = "inbound"
	DirectionOutbound Direction = "outbound"
	DirectionInternal Direction = "internal"
)

// Directions lists every valid Direction.
var Directions = []Direction{DirectionInbound, DirectionOutbound, DirectionInternal}

// Valid reports whether d is a known direction.
func (d Direction) Valid() bool { return slices.Contains(Directions, d) }

// Source names the system an activity came from.
type Source string

// Sources. Transcripts may name their note-taker (zoom, gong…) as source;
// activities take one of these.
const (
	SourceManual       Source = "manual"
	SourceDialer       Source = "dialer"
	SourceEmailSync    Source = "email_sync"
	SourceCalendarSync Source = "calendar_sync"
	SourceNotetaker    Source = "notetaker"
	SourceAPI          Source = "api"
)

// Sources lists every valid Source.
var Sources = []Source{SourceManual, SourceDialer, SourceEmailSync, SourceCalendarSync, SourceNotetaker, SourceAPI}

// Valid reports whether s is a known source.
func (s Source) Valid() bool { return slices.Contains(Sources, s) }

// DefaultDispositions is the disposition list a new org starts with.
var DefaultDispositions = []string{
	"connected", "voicemail", "gatekeeper", "no_answer", "busy",
	"wrong_number", "not_interested", "meeting_booked",
}

// ConnectedDispositions are the codes that count as a conversation in connect
// rate reports.
var ConnectedDispositions = []string{"connected", "meeting_booked", "not_interested"}

// Role is a user's job on the team.
type Role string

// Roles.
const (
	RoleRep     Role = "rep"
	RoleManager Role = "manager"
	RoleCSM     Role = "csm"
	RoleAdmin   Role = "admin"
)

// Roles lists every valid Role.
var Roles = []Role{RoleRep, RoleManager, RoleCSM, RoleAdmin}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// DealStatus is where a deal ended up.
type DealStatus string

// Deal statuses.
const (
	DealOpen DealStatus = "open"
	DealWon  DealStatus = "won"
	DealLost DealStatus = "lost"
)

// DealStatuses lists every valid DealStatus.
var DealStatuses = []DealStatus{DealOpen, DealWon, DealLost}

// Valid reports whether s is a known status.
func (s DealStatus) Valid() bool { return slices.Contains(DealStatuses, s) }

// Scope is a permission carried by an API key.
type Scope string

// Scopes. ScopeAdmin implies every other scope.
const (
	ScopeIngest Scope = "ingest"
	ScopeRead   Scope = "read"
	ScopeWrite  Scope = "write"
	ScopeAdmin  Scope = "admin"
)

// Scopes lists every valid Scope.
var Scopes = []Scope{ScopeIngest, ScopeRead, ScopeWrite, ScopeAdmin}

// Valid reports whether s is a known scope.
func (s Scope) Valid() bool { return slices.Contains(Scopes, s) }

// HasScope reports whether a key holding have may do what needs requires.
// admin implies every scope.
func HasScope(have []Scope, need Scope) bool {
	return slices.Contains(have, ScopeAdmin) || slices.Contains(have, need)
}

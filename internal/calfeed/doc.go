// Package calfeed reads iCalendar data (RFC 5545: an ICS feed, a CalDAV
// calendar object) into events, and expands them into the instances a
// window of time holds: RRULE, RDATE and EXDATE, overrides by
// RECURRENCE-ID (moved instances), cancelled instances removed. It knows
// the attendees (email, name, PARTSTAT) and the meeting's conference link
// (RFC 7986 CONFERENCE, X-GOOGLE-CONFERENCE and the like, else a
// video-meeting link in LOCATION or DESCRIPTION).
//
// Calendar data comes from outside and is treated as hostile: Parse never
// panics (github.com/emersion/go-ical's decoder can, and is recovered),
// refuses nesting deeper than MaxDepth and more than MaxEvents events, and
// Expand bounds its work per event (MaxInstancesPerEvent, MaxSteps, rules
// it will not expand) and per call (MaxCostlyRules), so a hostile RRULE
// costs milliseconds, never minutes.
package calfeed

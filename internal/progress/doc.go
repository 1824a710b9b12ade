// Package progress is the one progress renderer of robinscreen's
// command-line tools (robinscreen load, robinscreen admin load and the
// call-list tool robinscreen-screen). Libraries only count progress
// (store.Progress, the client's clients.Progress, line counts); the tools
// draw it here, through github.com/schollz/progressbar/v3, and only on a
// terminal unless asked otherwise: a bar written into a redirected stderr
// would fill log files with carriage returns.
//
// A Bar shows one stage at a time on one line (uploading, then parsing,
// ...). What it draws is counts, a description the tool composes and
// rates; never a row's content, so no personal data reaches the terminal
// through it.
package progress

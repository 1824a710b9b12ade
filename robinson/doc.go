// Package robinson parses CPR's Robinson list (Robinsonlisten) and matches
// contacts against it by name and address, following
// docs/screening-rules.md section 3 and docs/data-formats.md section 1.
//
// The package is plain Go: it imports no transport and no storage. It holds
//
//   - text normalisation (Normalize, AppendNormalized),
//   - name parsing for list names ("Surname,Given") and contact names
//     ("Given Surname" or "Surname, Given") (ParseListName, ParseContactName),
//   - the free-text Danish address parser (ParseAddress) and the unit
//     normalisers (NormalizeHouseNumber, NormalizeFloor, NormalizeDoor),
//   - street compatibility (StreetsCompatible) and the matcher (Match),
//   - blocking keys shared by the loader and the lookup (AppendKey),
//   - the list file parser (Parse), which decodes ISO 8859-1 or UTF-8,
//     detects header lines and the publication date, and reports every
//     rejected line with its number.
package robinson

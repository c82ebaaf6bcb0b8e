// Makes process output safe to show the model: valid UTF-8, no terminal control sequences.
//   - invalid UTF-8 bytes become U+FFFD (one per byte of an invalid sequence);
//   - ANSI/VT escapes are removed: CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \, e.g.
//     OSC 52 clipboard writes and title changes), DCS/SOS/PM/APC strings, two-byte ESC
//     sequences, and the C1 controls U+0080..U+009F (8-bit CSI is U+009B);
//   - "\r\n" becomes "\n", a lone "\r" becomes "\n" (progress bars end up one per line);
//   - other C0 controls and DEL are escaped as visible text "\x00" .. "\x7f";
//   - "\n" and "\t" stay.
// Harmony special-token text such as "<|call|>" is ordinary text here and stays so: the
// runtime encodes tool output with special tokens disallowed, so it can never become a
// control token (docs/SECURITY.md). Pure function, no I/O.
#pragma once

#include <string>
#include <string_view>

namespace gossamer::sandbox {

std::string sanitize_for_model(std::string_view bytes);

}  // namespace gossamer::sandbox

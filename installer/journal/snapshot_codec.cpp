#include "installer/journal/snapshot_codec.hpp"

#include "installer/util/base64.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace installer {
namespace {

/// The order of Snapshot::objects(): by kind, then name.
int compare_keys(const SchemaObject& a, const SchemaObject& b) {
  int kind = a.kind.compare(b.kind);
  return kind != 0 ? kind : a.name.compare(b.name);
}

void append_key(std::string& out, const SchemaObject& o) {
  append_snapshot_field(out, o.kind);
  out += '\t';
  append_snapshot_field(out, o.name);
  out += '\n';
}

struct DeltaLine {
  char mark = '+';
  SchemaObject object;  ///< just the key for "-"
  size_t number = 0;
};

DeltaLine parse_delta_line(std::string_view text, size_t number) {
  if (text.empty() || (text[0] != '-' && text[0] != '+' && text[0] != '~'))
    throw std::invalid_argument(fmt::format("delta line {}: does not start with -, + or ~", number));
  std::vector<std::string> fields = split_snapshot_line(text.substr(1), number);
  const size_t expected = text[0] == '-' ? 2 : 4;
  if (fields.size() != expected)
    throw std::invalid_argument(fmt::format("delta line {}: {} fields, not {}", number, fields.size(), expected));
  DeltaLine line{text[0], {std::move(fields[0]), std::move(fields[1]), "", ""}, number};
  if (expected == 4) {
    line.object.definition = std::move(fields[2]);
    line.object.table = std::move(fields[3]);
  }
  return line;
}

std::vector<DeltaLine> parse_delta(std::string_view delta) {
  std::vector<DeltaLine> lines;
  for (size_t number = 1; !delta.empty(); ++number) {
    auto end = delta.find('\n');
    if (end == std::string_view::npos) throw std::invalid_argument(fmt::format("delta line {}: unterminated", number));
    lines.push_back(parse_delta_line(delta.substr(0, end), number));
    // In key order, each key once: what lets the delta be applied in one pass.
    if (lines.size() > 1 && compare_keys(lines[lines.size() - 2].object, lines.back().object) >= 0)
      throw std::invalid_argument(fmt::format("delta line {}: out of key order", number));
    delta.remove_prefix(end + 1);
  }
  return lines;
}

/// inflateEnd() however the inflation ends.
struct Inflater {
  z_stream stream{};
  Inflater() {
    if (inflateInit(&stream) != Z_OK) throw std::runtime_error("zlib: inflateInit failed");
  }
  ~Inflater() { inflateEnd(&stream); }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;
};

/// deflateEnd() however the deflation ends.
struct Deflater {
  z_stream stream{};
  explicit Deflater(int window_bits) {
    if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, window_bits, std::max(1, window_bits - 7),
                     Z_DEFAULT_STRATEGY) != Z_OK)
      throw std::runtime_error("zlib: deflateInit2 failed");
  }
  ~Deflater() { deflateEnd(&stream); }
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;
};

}  // namespace

std::string snapshot_delta(const Snapshot& base, const Snapshot& target) {
  // Only the tables whose objects differ are walked: a delta costs what changed.
  std::vector<const SchemaObject*> was, now;
  target.objects_differing_from(base, was, now);
  std::string out;
  size_t i = 0, j = 0;
  while (i < was.size() || j < now.size()) {
    int order = i == was.size() ? 1 : j == now.size() ? -1 : compare_keys(*was[i], *now[j]);
    if (order < 0) {
      out += '-';
      append_key(out, *was[i++]);
    } else if (order > 0) {
      out += '+';
      append_snapshot_line(out, *now[j++]);
    } else {
      if (*was[i] != *now[j]) {
        out += '~';
        append_snapshot_line(out, *now[j]);
      }
      ++i, ++j;
    }
  }
  return out;
}

void apply_snapshot_delta(std::vector<SchemaObject>& objects, std::string_view delta) {
  std::vector<DeltaLine> lines = parse_delta(delta);
  std::vector<SchemaObject> out;
  out.reserve(objects.size() + lines.size());
  size_t i = 0;
  for (auto& line : lines) {
    while (i < objects.size() && compare_keys(objects[i], line.object) < 0) out.push_back(std::move(objects[i++]));
    const bool present = i < objects.size() && compare_keys(objects[i], line.object) == 0;
    if (present == (line.mark == '+'))
      throw std::invalid_argument(fmt::format("delta line {}: {} {} is {} the snapshot it applies to", line.number,
                                              line.object.kind, line.object.name, present ? "already in" : "not in"));
    if (present) ++i;  // removed, or replaced by the line's object
    if (line.mark != '-') out.push_back(std::move(line.object));
  }
  while (i < objects.size()) out.push_back(std::move(objects[i++]));
  objects = std::move(out);
}

std::string pack_snapshot_text(std::string_view text) {
  // Most texts are one update's delta, a few hundred bytes: a window no larger than the
  // text spares zlib setting up 256 KiB of state for each (a tenth of the client's time
  // per update, measured). Any window of 2^9 to 2^15 bytes inflates with the default.
  int window_bits = 9;
  while (window_bits < 15 && (size_t{1} << window_bits) < text.size()) ++window_bits;
  Deflater z(window_bits);
  std::string compressed(deflateBound(&z.stream, static_cast<uLong>(text.size())), '\0');
  z.stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.stream.avail_in = static_cast<uInt>(text.size());
  z.stream.next_out = reinterpret_cast<Bytef*>(compressed.data());
  z.stream.avail_out = static_cast<uInt>(compressed.size());
  int rc = deflate(&z.stream, Z_FINISH);
  compressed.resize(compressed.size() - z.stream.avail_out);
  if (rc != Z_STREAM_END) throw std::runtime_error(fmt::format("zlib: deflate failed ({})", rc));
  return base64_encode(compressed);
}

std::string unpack_snapshot_text(std::string_view body, size_t bytes) {
  if (bytes > kMaxSnapshotTextBytes)
    throw std::invalid_argument(fmt::format("it claims {} bytes, more than the {} MiB a snapshot may have", bytes,
                                            kMaxSnapshotTextBytes >> 20));
  std::string compressed = base64_decode(body);
  Inflater z;
  z.stream.next_in = reinterpret_cast<Bytef*>(compressed.data());
  z.stream.avail_in = static_cast<uInt>(compressed.size());
  // The output grows as it comes, never past one byte more than claimed (which proves the
  // claim wrong): the claim alone allocates nothing.
  std::string out;
  int rc = Z_OK;
  while (rc == Z_OK && out.size() <= bytes) {
    size_t have = out.size();
    size_t room = std::min(std::max(have, size_t{64} << 10), bytes + 1 - have);
    out.resize(have + room);
    z.stream.next_out = reinterpret_cast<Bytef*>(out.data() + have);
    z.stream.avail_out = static_cast<uInt>(room);
    rc = inflate(&z.stream, Z_NO_FLUSH);
    out.resize(have + room - z.stream.avail_out);
  }
  if (rc != Z_OK && rc != Z_STREAM_END)
    throw std::invalid_argument(fmt::format("zlib: {}", z.stream.msg        ? z.stream.msg
                                                        : rc == Z_BUF_ERROR ? "truncated"
                                                                            : "damaged"));
  if (rc != Z_STREAM_END || out.size() != bytes)
    throw std::invalid_argument(fmt::format("it unpacks to {}{} bytes, not the {} it claims",
                                            out.size() > bytes ? "more than " : "", std::min(out.size(), bytes),
                                            bytes));
  if (z.stream.avail_in != 0) throw std::invalid_argument("zlib: data after the end of the stream");
  return out;
}

}  // namespace installer

#include "arbiter/aws/xml.h"

#include <cstdint>

namespace arbiter::aws {

const XmlElement* XmlElement::Child(std::string_view child_name) const {
  for (const XmlElement& c : children) {
    if (c.name == child_name) return &c;
  }
  return nullptr;
}

std::string XmlElement::ChildText(std::string_view child_name) const {
  const XmlElement* c = Child(child_name);
  return c == nullptr ? "" : c->text;
}

namespace {

constexpr int kMaxDepth = 64;

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  Result<XmlElement> Document() {
    ARBITER_RETURN_IF_ERROR(SkipMisc());
    if (pos_ >= s_.size() || s_[pos_] != '<') return Error("expected a root element");
    XmlElement root;
    ARBITER_RETURN_IF_ERROR(Element(root, 0));
    ARBITER_RETURN_IF_ERROR(SkipMisc());
    if (pos_ != s_.size()) return Error("content after the root element");
    return root;
  }

 private:
  Status Error(std::string what) const {
    return InvalidArgumentError("malformed XML at byte " + std::to_string(pos_) + ": " + what);
  }

  bool StartsWith(std::string_view p) const { return s_.substr(pos_).starts_with(p); }

  void SkipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' || s_[pos_] == '\t')) ++pos_;
  }

  Status SkipPast(std::string_view end) {
    const size_t e = s_.find(end, pos_);
    if (e == std::string_view::npos) return Error("unterminated construct (truncated?)");
    pos_ = e + end.size();
    return Status::Ok();
  }

  // Whitespace, the XML declaration, comments, processing instructions, DOCTYPE.
  Status SkipMisc() {
    while (true) {
      SkipSpace();
      if (StartsWith("<?")) {
        ARBITER_RETURN_IF_ERROR(SkipPast("?>"));
      } else if (StartsWith("<!--")) {
        ARBITER_RETURN_IF_ERROR(SkipPast("-->"));
      } else if (StartsWith("<!DOCTYPE")) {
        ARBITER_RETURN_IF_ERROR(SkipPast(">"));
      } else {
        return Status::Ok();
      }
    }
  }

  static bool NameChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == ':' || static_cast<unsigned char>(c) >= 0x80;
  }

  Result<std::string> Name() {
    const size_t start = pos_;
    while (pos_ < s_.size() && NameChar(s_[pos_])) ++pos_;
    if (pos_ == start) return Error("expected a name");
    return std::string(s_.substr(start, pos_ - start));
  }

  static std::string LocalName(const std::string& n) {
    const size_t colon = n.rfind(':');
    return colon == std::string::npos ? n : n.substr(colon + 1);
  }

  Status AppendEntity(std::string& out) {
    const size_t semi = s_.find(';', pos_);
    if (semi == std::string_view::npos || semi - pos_ > 12) return Error("bad entity reference");
    std::string_view ent = s_.substr(pos_ + 1, semi - pos_ - 1);
    pos_ = semi + 1;
    if (ent == "amp") out.push_back('&');
    else if (ent == "lt") out.push_back('<');
    else if (ent == "gt") out.push_back('>');
    else if (ent == "quot") out.push_back('"');
    else if (ent == "apos") out.push_back('\'');
    else if (ent.size() > 1 && ent[0] == '#') {
      uint32_t cp = 0;
      const bool hex = ent[1] == 'x' || ent[1] == 'X';
      std::string_view digits = ent.substr(hex ? 2 : 1);
      if (digits.empty()) return Error("bad character reference");
      for (char c : digits) {
        int v = -1;
        if (c >= '0' && c <= '9') v = c - '0';
        else if (hex && c >= 'a' && c <= 'f') v = c - 'a' + 10;
        else if (hex && c >= 'A' && c <= 'F') v = c - 'A' + 10;
        if (v < 0) return Error("bad character reference");
        cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(v);
        if (cp > 0x10FFFF) return Error("character reference out of range");
      }
      if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) return Error("invalid character reference");
      // UTF-8 encode.
      if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
      } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      }
    } else {
      return Error("unknown entity &" + std::string(ent) + ";");
    }
    return Status::Ok();
  }

  Status Element(XmlElement& el, int depth) {
    if (depth > kMaxDepth) return Error("nesting deeper than 64");
    ++pos_;  // '<'
    ARBITER_ASSIGN_OR_RETURN(std::string name, Name());
    el.name = LocalName(name);
    // Attributes: name="value" or name='value', skipped.
    while (true) {
      SkipSpace();
      if (pos_ >= s_.size()) return Error("truncated start tag");
      if (s_[pos_] == '/') {
        if (pos_ + 1 >= s_.size() || s_[pos_ + 1] != '>') return Error("expected '/>'");
        pos_ += 2;
        return Status::Ok();
      }
      if (s_[pos_] == '>') {
        ++pos_;
        break;
      }
      ARBITER_RETURN_IF_ERROR(Name().status());
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != '=') return Error("expected '=' in attribute");
      ++pos_;
      SkipSpace();
      if (pos_ >= s_.size() || (s_[pos_] != '"' && s_[pos_] != '\'')) return Error("expected quoted attribute value");
      const char quote = s_[pos_++];
      const size_t end = s_.find(quote, pos_);
      if (end == std::string_view::npos) return Error("unterminated attribute value");
      pos_ = end + 1;
    }
    // Content.
    while (true) {
      if (pos_ >= s_.size()) return Error("missing </" + name + "> (truncated?)");
      const char c = s_[pos_];
      if (c == '&') {
        ARBITER_RETURN_IF_ERROR(AppendEntity(el.text));
      } else if (c != '<') {
        el.text.push_back(c);
        ++pos_;
      } else if (StartsWith("</")) {
        pos_ += 2;
        ARBITER_ASSIGN_OR_RETURN(std::string close, Name());
        if (close != name) return Error("</" + close + "> closes <" + name + ">");
        SkipSpace();
        if (pos_ >= s_.size() || s_[pos_] != '>') return Error("expected '>'");
        ++pos_;
        return Status::Ok();
      } else if (StartsWith("<![CDATA[")) {
        const size_t start = pos_ + 9;
        const size_t end = s_.find("]]>", start);
        if (end == std::string_view::npos) return Error("unterminated CDATA");
        el.text.append(s_.substr(start, end - start));
        pos_ = end + 3;
      } else if (StartsWith("<!--")) {
        ARBITER_RETURN_IF_ERROR(SkipPast("-->"));
      } else if (StartsWith("<?")) {
        ARBITER_RETURN_IF_ERROR(SkipPast("?>"));
      } else {
        el.children.emplace_back();
        ARBITER_RETURN_IF_ERROR(Element(el.children.back(), depth + 1));
      }
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

Result<XmlElement> ParseXml(std::string_view text) { return Parser(text).Document(); }

}  // namespace arbiter::aws

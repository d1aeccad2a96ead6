#include "arbiter/definitions/yaml_document.h"

#include <yaml.h>

#include <map>

namespace arbiter::yaml {
namespace {

const std::string kEmpty;
const std::vector<Node> kNoItems;
const std::vector<Node::Entry> kNoEntries;
const std::string kQuotedTag = "!";
const std::string kPlainTag = "?";

bool IsNullScalar(const std::string& s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

Mark ToMark(const yaml_mark_t& m) {
  return Mark{static_cast<int>(m.line), static_cast<int>(m.column)};
}

// Owns a libyaml parser or event for the duration of a scope.
struct ParserGuard {
  yaml_parser_t parser;
  ParserGuard() { yaml_parser_initialize(&parser); }
  ~ParserGuard() { yaml_parser_delete(&parser); }
};
struct EventGuard {
  yaml_event_t event;
  ~EventGuard() { yaml_event_delete(&event); }
};

}  // namespace

NodeType Node::Type() const { return data_ ? data_->type : NodeType::kUndefined; }
const std::string& Node::Scalar() const {
  return data_ && data_->type == NodeType::kScalar ? data_->scalar : kEmpty;
}
const std::string& Node::Tag() const { return data_ ? data_->tag : kEmpty; }
yaml::Mark Node::Mark() const { return data_ ? data_->mark : yaml::Mark{}; }
size_t Node::size() const {
  if (!data_) return 0;
  return data_->type == NodeType::kMap ? data_->entries.size() : data_->items.size();
}
std::vector<Node::Entry>::const_iterator Node::begin() const {
  return data_ ? data_->entries.begin() : kNoEntries.begin();
}
std::vector<Node::Entry>::const_iterator Node::end() const {
  return data_ ? data_->entries.end() : kNoEntries.end();
}
const std::vector<Node>& Node::items() const { return data_ ? data_->items : kNoItems; }

Node Node::operator[](std::string_view key) const {
  if (!data_) return Node();
  for (const Entry& e : data_->entries) {
    if (e.first.IsScalar() && e.first.Scalar() == key) return e.second;
  }
  return Node();
}

NodeData* Document::NewNode(NodeType type, const yaml::Mark& mark) {
  NodeData& d = nodes_.emplace_back();
  d.type = type;
  d.mark = mark;
  return &d;
}

std::unique_ptr<Document> Document::Parse(std::string_view text, ParseError* error) {
  std::unique_ptr<Document> doc(new Document());
  ParserGuard guard;
  yaml_parser_set_input_string(&guard.parser, reinterpret_cast<const unsigned char*>(text.data()),
                               text.size());
  struct Frame {
    NodeData* node;
    std::string anchor;
    Node pending_key;
    bool has_key = false;
  };
  std::vector<Frame> stack;
  std::map<std::string, const NodeData*> anchors;
  bool have_root = false;

  auto add = [&](NodeData* n) {
    Node node(n);
    if (stack.empty()) {
      if (!have_root) doc->root_ = node;
      have_root = true;
      return;
    }
    Frame& top = stack.back();
    if (top.node->type == NodeType::kSequence) {
      top.node->items.push_back(node);
    } else if (!top.has_key) {
      top.pending_key = node;
      top.has_key = true;
    } else {
      top.node->entries.emplace_back(top.pending_key, node);
      top.has_key = false;
    }
  };

  for (bool done = false; !done;) {
    EventGuard ev;
    if (!yaml_parser_parse(&guard.parser, &ev.event)) {
      // yaml_parser_parse leaves the event empty on failure; deleting it is safe.
      error->mark = ToMark(guard.parser.problem_mark);
      error->message = guard.parser.problem ? guard.parser.problem : "invalid YAML";
      if (guard.parser.context) {
        error->message = std::string(guard.parser.context) + " (line " +
                         std::to_string(guard.parser.context_mark.line + 1) + "): " +
                         error->message;
      }
      return nullptr;
    }
    const yaml_event_t& e = ev.event;
    Mark mark = ToMark(e.start_mark);
    switch (e.type) {
      case YAML_SCALAR_EVENT: {
        std::string value(reinterpret_cast<const char*>(e.data.scalar.value), e.data.scalar.length);
        bool plain = e.data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !e.data.scalar.tag;
        NodeData* n =
            doc->NewNode(plain && IsNullScalar(value) ? NodeType::kNull : NodeType::kScalar, mark);
        n->scalar = std::move(value);
        n->tag = plain ? kPlainTag : kQuotedTag;
        if (e.data.scalar.anchor) anchors[reinterpret_cast<const char*>(e.data.scalar.anchor)] = n;
        add(n);
        break;
      }
      case YAML_SEQUENCE_START_EVENT:
      case YAML_MAPPING_START_EVENT: {
        bool seq = e.type == YAML_SEQUENCE_START_EVENT;
        NodeData* n = doc->NewNode(seq ? NodeType::kSequence : NodeType::kMap, mark);
        add(n);
        const yaml_char_t* anchor = seq ? e.data.sequence_start.anchor : e.data.mapping_start.anchor;
        stack.push_back({n, anchor ? reinterpret_cast<const char*>(anchor) : "", Node(), false});
        break;
      }
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT:
        // Anchors become usable only once complete, so an alias cannot form a cycle.
        if (!stack.back().anchor.empty()) anchors[stack.back().anchor] = stack.back().node;
        stack.pop_back();
        break;
      case YAML_ALIAS_EVENT: {
        std::string name = reinterpret_cast<const char*>(e.data.alias.anchor);
        auto it = anchors.find(name);
        if (it == anchors.end()) {
          error->mark = mark;
          error->message = "alias '*" + name + "' refers to an unknown or unfinished anchor";
          return nullptr;
        }
        add(const_cast<NodeData*>(it->second));
        break;
      }
      case YAML_DOCUMENT_END_EVENT:  // only the first document is read
      case YAML_STREAM_END_EVENT:
        done = true;
        break;
      default:
        break;
    }
  }
  if (!have_root) doc->root_ = Node(doc->NewNode(NodeType::kNull, Mark{0, 0}));
  return doc;
}

}  // namespace arbiter::yaml

// A parsed YAML document: an immutable tree of nodes with their source marks,
// built from libyaml's event parser (the C parser behind PyYAML; ~10x faster
// than yaml-cpp, which made loading large projects slow).
//
// Node is a cheap handle into a Document and is valid while the Document
// lives. Mappings keep every entry in document order, duplicates included, so
// validation can report a repeated key instead of silently losing one.
// Anchors and aliases are supported; an alias shares the anchored node.
// Immutable after parsing; safe to read from several threads.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace arbiter::yaml {

enum class NodeType { kUndefined, kNull, kScalar, kSequence, kMap };

struct Mark {
  int line = -1;    // 0-based
  int column = -1;  // 0-based
  bool is_null() const { return line < 0; }
};

struct NodeData;

class Node {
 public:
  using Entry = std::pair<Node, Node>;

  Node() = default;  // undefined: a key that is absent

  NodeType Type() const;
  bool IsDefined() const { return data_ != nullptr; }
  bool IsNull() const { return Type() == NodeType::kNull; }
  bool IsScalar() const { return Type() == NodeType::kScalar; }
  bool IsSequence() const { return Type() == NodeType::kSequence; }
  bool IsMap() const { return Type() == NodeType::kMap; }

  const std::string& Scalar() const;  // the text of a scalar, "" otherwise
  // "!" for a quoted, block or explicitly tagged scalar (always a string);
  // "?" for a plain scalar; "" for other nodes.
  const std::string& Tag() const;
  yaml::Mark Mark() const;
  size_t size() const;  // entries of a map, items of a sequence, else 0

  // Map entries in document order (duplicates kept); empty for other nodes.
  std::vector<Entry>::const_iterator begin() const;
  std::vector<Entry>::const_iterator end() const;
  // Sequence items; empty for other nodes.
  const std::vector<Node>& items() const;

  // The value of the first entry whose key is the scalar `key`, or undefined.
  Node operator[](std::string_view key) const;

 private:
  friend class Document;
  explicit Node(const NodeData* data) : data_(data) {}
  const NodeData* data_ = nullptr;
};

struct NodeData {
  NodeType type = NodeType::kNull;
  std::string scalar;
  std::string tag;
  yaml::Mark mark;
  std::vector<Node> items;
  std::vector<Node::Entry> entries;
};

struct ParseError {
  yaml::Mark mark;
  std::string message;  // libyaml's problem, with its context when it has one
};

class Document {
 public:
  // Parses the first document in `text`. Returns nullptr and fills *error on
  // a syntax error (or invalid UTF-8, or an alias to an unknown anchor).
  static std::unique_ptr<Document> Parse(std::string_view text, ParseError* error);

  // The root node; a null node for an empty document.
  Node root() const { return root_; }

 private:
  Document() = default;
  NodeData* NewNode(NodeType type, const yaml::Mark& mark);
  std::deque<NodeData> nodes_;  // deque: stable addresses for Node handles
  Node root_;
};

}  // namespace arbiter::yaml

// Code-list lookup for coded attribute values (see code_lists.h).
#include "code_lists.h"

#include <libxml/parser.h>

#include <vector>

#include "twin/vfs.h"
#include "xml_util.h"

namespace twin::citygml {

std::string CodeLists::lookup(const std::string& uri, const std::string& code) {
  auto it = cache_.find(uri);
  if (it == cache_.end()) it = cache_.emplace(uri, load(uri)).first;
  auto e = it->second.find(code);
  return e == it->second.end() ? std::string() : e->second;
}

std::unordered_map<std::string, std::string> CodeLists::load(const std::string& uri) {
  std::unordered_map<std::string, std::string> map;
  std::vector<uint8_t> bytes;
  std::string err;
  if (!vfs::readAll(uri, bytes, err, 64u << 20)) return map;
  xmlDocPtr doc = xmlReadMemory(reinterpret_cast<const char*>(bytes.data()), int(bytes.size()), uri.c_str(), nullptr,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (!doc) return map;
  // gml:Definition (or gml:DefinitionProxy) with gml:name = code, gml:description = name
  std::vector<xmlNodePtr> stack{xmlDocGetRootElement(doc)};
  while (!stack.empty()) {
    xmlNodePtr n = stack.back();
    stack.pop_back();
    if (!n) continue;
    if (n->type == XML_ELEMENT_NODE && (eq(n->name, "Definition") || eq(n->name, "DefinitionProxy"))) {
      std::string code, name;
      for (xmlNodePtr c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        xmlChar* t = xmlNodeGetContent(c);
        std::string v = str(t);
        xmlFree(t);
        if (eq(c->name, "name") && code.empty())
          code = v;
        else if (eq(c->name, "description"))
          name = v;
      }
      if (!code.empty()) map.emplace(code, name);
      continue;
    }
    for (xmlNodePtr c = n->children; c; c = c->next)
      if (c->type == XML_ELEMENT_NODE) stack.push_back(c);
  }
  xmlFreeDoc(doc);
  return map;
}

}  // namespace twin::citygml

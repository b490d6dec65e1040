// What the scenario form reads from the JSON Schema (compiled in as a Qt resource), and the
// small JSON helpers its fields share: labels, display text, lookups by the loader's dotted paths,
// and the values in effect once presets and defaults are applied (for placeholder text).
#pragma once

#include <QString>
#include <nlohmann/json.hpp>
#include <string>

#include "satlink/simulator/scenario.hpp"

namespace satlink::gui::form {

// The schema keeps its key order (the form shows fields in the schema's order); documents are
// plain json like the rest of the program.
using Schema = nlohmann::ordered_json;
using Json = nlohmann::json;

// scenarios/schema/scenario.schema.json from the resource, parsed once. An empty object when the
// resource is missing (a build problem): the form then shows only its hand-made parts.
const Schema& scenarioSchema();

// The node with "$ref" and "allOf" folded in; the node's own keys win, so a property's own
// description replaces its definition's.
Schema resolved(const Schema& node);
// "object", "number", "integer", "boolean", "string", "array" or "" (oneOf/anyOf, no type).
std::string typeOf(const Schema& node);
QString descriptionOf(const Schema& node);
Json defaultOf(const Schema& node);  // null when the schema gives none
Json toJson(const Schema& node);

// "connections_per_host" -> "Connections per host", units in brackets ("delay_ms" ->
// "Delay (ms)"); `parent` names a bare unit key ("ms" under "jitter" -> "Jitter (ms)").
QString labelFor(const std::string& key, const std::string& parent = {});

// Numbers as a person writes them (600, not 600.0; 0.001, not 1e-03); strings unquoted; other
// values as compact JSON; null as "".
QString displayText(const Json& value);
// A number typed into a field: integer text stays an integer (JSON "600", not "600.0"); empty
// text is null (the key is removed); anything else that is not a number comes back as a string,
// so the loader names the problem at the field.
Json parseNumber(const QString& text);

// The value at a loader path ("client_link.down.delay_ms", "page.resources[2].size") or null.
Json valueAt(const Json& doc, const std::string& path);
std::string joinPath(const std::string& base, const std::string& key);
std::string indexPath(const std::string& base, std::size_t index);  // base[index]
// Whether `path` is `base` or below it ("a.b" and "a.b[1].c" are below "a.b", "a.bc" is not).
bool isAtOrBelow(const std::string& path, const std::string& base);

// The loaded scenario in the file's shape with every value in effect: the link presets and
// rtt_ms applied, origin keep-alive presets expanded, defaults filled in. Placeholders show these
// values for absent keys, so a user sees what the link does without writing it out.
Json effectiveScenario(const satlink::simulator::Scenario& s);

}  // namespace satlink::gui::form

#include "engine/definition_validate.h"

#include "engine/formula.h"

#include <algorithm>
#include <array>
#include <set>

namespace weft::engine {

namespace {

constexpr std::array kReservedIds = {"inputs", "variables", "start", "run"};

class Validator {
  public:
    Validator(Definition& def, const DefinitionLimits& limits, Faults& faults)
        : def_(def), limits_(limits), faults_(faults) {}

    void Run() {
        for (auto& [name, blocks] : def_.flows) CollectIds(blocks);
        for (auto& [name, blocks] : def_.flows) {
            visible_.clear();
            enclosing_loops_.clear();
            WalkBlocks(blocks, 0);
        }
    }

  private:
    void CollectIds(const BlockList& blocks) {
        for (const auto& b : blocks) {
            if (!b.id.empty()) {
                if (std::find(kReservedIds.begin(), kReservedIds.end(), b.id) != kReservedIds.end()) {
                    faults_.Add(b.path + ".id", "'" + b.id + "' is reserved (inputs, variables, start, run)");
                } else if (auto [it, fresh] = all_ids_.emplace(b.id, b.path); !fresh) {
                    faults_.Add(b.path + ".id", "duplicate id '" + b.id + "' (also at " + it->second + ")");
                }
            }
            CollectIds(b.then_blocks);
            CollectIds(b.else_blocks);
            CollectIds(b.body);
        }
    }

    void CheckReference(const Reference& ref, const std::string& path, const Block& self) {
        const std::string& root = ref.steps[0].key;
        if (root == "inputs" || root == "start" || root == "run") return;
        if (root == "variables") {
            if (ref.steps.size() >= 2 && def_.FindVariable(ref.steps[1].key) == nullptr) {
                faults_.Add(path, "unknown variable '" + ref.steps[1].key + "' in '" + ref.text + "'");
            }
            return;
        }
        if (!all_ids_.contains(root)) {
            faults_.Add(path, "'" + ref.text + "' refers to an unknown block '" + root + "'");
            return;
        }
        if (root == self.id) {
            faults_.Add(path, "'" + ref.text + "': a block cannot use its own output");
            return;
        }
        if (!visible_.contains(root)) {
            faults_.Add(path, "'" + ref.text + "' refers to block '" + root +
                                  "', which cannot have run yet here (it is not earlier in this flow)");
            return;
        }
        if (ref.steps.size() >= 2 && !ref.steps[1].is_index &&
            (ref.steps[1].key == "item" || ref.steps[1].key == "index")) {
            const Block* target = FindId(root);
            if (target != nullptr && target->type == BlockType::kLoop &&
                std::find(enclosing_loops_.begin(), enclosing_loops_.end(), root) == enclosing_loops_.end()) {
                faults_.Add(path, "'" + ref.text + "' is only available inside loop '" + root + "'");
            }
        }
    }

    const Block* FindId(const std::string& id) const {
        auto it = blocks_.find(id);
        return it == blocks_.end() ? nullptr : it->second;
    }

    void Check(const ValueTemplate& t, const std::string& path, const Block& self) {
        std::vector<const Reference*> refs;
        CollectReferences(t, refs);
        for (const auto* r : refs) CheckReference(*r, path, self);
        CheckTimeZones(t, path);
    }

    // A literal time zone argument can be checked now rather than fail every run.
    void CheckTimeZones(const ValueTemplate& t, const std::string& path) {
        std::vector<const FormulaCall*> calls;
        CollectFormulaCalls(t, calls);
        for (const auto* call : calls) {
            const std::size_t zone_arg = call->spec->name == "date" ? 2 : call->spec->name == "date_add" ? 3 : 0;
            if (zone_arg == 0 || call->args.size() <= zone_arg) continue;
            const auto* lit = std::get_if<json::value>(&call->args[zone_arg].node);
            if (lit != nullptr && lit->is_string() && !lit->get_string().empty() &&
                !IsKnownTimeZone(lit->get_string())) {
                faults_.Add(path, "unknown time zone '" + std::string(lit->get_string()) + "' in formula '" +
                                      std::string(call->spec->name) + "'");
            }
        }
    }
    void Check(const std::optional<ValueTemplate>& t, const std::string& path, const Block& self) {
        if (t) Check(*t, path, self);
    }

    void CheckVariableBlock(Block& b) {
        const VariableSpec* spec = def_.FindVariable(b.variable);
        if (spec == nullptr) {
            if (!b.variable.empty()) faults_.Add(b.path + ".variable", "unknown variable '" + b.variable + "'");
            return;
        }
        b.variable_type = spec->type;
        for (std::size_t i = 0; i < b.operations.size(); ++i) {
            const auto kind = b.operations[i].kind;
            const auto type = spec->type;
            const char* op = nullptr;
            const char* wants = nullptr;
            if (kind == VariableOpKind::kAppend && type != VariableType::kList && type != VariableType::kTable) {
                op = "append";
                wants = "a list or table";
            } else if (kind == VariableOpKind::kMerge && type != VariableType::kObject) {
                op = "merge";
                wants = "an object";
            } else if (kind == VariableOpKind::kIncrement && type != VariableType::kNumber) {
                op = "increment";
                wants = "a number";
            }
            if (op != nullptr) {
                faults_.Add(b.path + ".operations[" + std::to_string(i) + "].op",
                            std::string("'") + op + "' needs " + wants + " variable; '" + b.variable + "' is a " +
                                VariableTypeName(type));
            }
        }
    }

    void WalkBlocks(BlockList& blocks, int loop_depth) {
        for (auto& b : blocks) {
            b.loop_depth = loop_depth;
            if (!b.id.empty()) blocks_.emplace(b.id, &b);
            const std::string& p = b.path;
            switch (b.type) {
                case BlockType::kOutput:
                    Check(b.value, p + ".value", b);
                    Check(b.status, p + ".status", b);
                    Check(b.headers, p + ".headers", b);
                    break;
                case BlockType::kVariable:
                    CheckVariableBlock(b);
                    for (std::size_t i = 0; i < b.operations.size(); ++i) {
                        Check(b.operations[i].value, p + ".operations[" + std::to_string(i) + "].value", b);
                    }
                    break;
                case BlockType::kCondition:
                    for (std::size_t i = 0; i < b.conditions.size(); ++i) {
                        const std::string cp = p + ".conditions[" + std::to_string(i) + "]";
                        Check(b.conditions[i].left, cp + ".left", b);
                        Check(b.conditions[i].right, cp + ".right", b);
                    }
                    break;
                case BlockType::kLoop:
                    Check(b.over, p + ".over", b);
                    if (loop_depth + 1 > limits_.max_loop_depth) {
                        faults_.Add(p, "loops are nested " + std::to_string(loop_depth + 1) +
                                           " deep; the loop depth limit is " + std::to_string(limits_.max_loop_depth));
                    }
                    break;
                case BlockType::kExitLoop:
                    if (loop_depth == 0) faults_.Add(p + ".type", "exit_loop must be inside a loop");
                    break;
                case BlockType::kHttp:
                    Check(b.method, p + ".method", b);
                    Check(b.url, p + ".url", b);
                    Check(b.query, p + ".query", b);
                    Check(b.request_headers, p + ".headers", b);
                    Check(b.body_value, p + ".body", b);
                    Check(b.datasource, p + ".datasource", b);
                    break;
                case BlockType::kConnector:
                    Check(b.connector, p + ".connector", b);
                    Check(b.endpoint, p + ".endpoint", b);
                    Check(b.datasource, p + ".datasource", b);
                    Check(b.params, p + ".params", b);
                    break;
                case BlockType::kCallAutomation:
                    Check(b.automation, p + ".automation", b);
                    Check(b.call_inputs, p + ".inputs", b);
                    break;
                case BlockType::kSleep:
                    Check(b.seconds, p + ".seconds", b);
                    break;
                case BlockType::kError:
                    Check(b.message, p + ".message", b);
                    break;
                case BlockType::kStop:
                    break;
            }
            // A block's own output exists before its children run, and stays after.
            if (!b.id.empty()) visible_.insert(b.id);
            if (b.type == BlockType::kLoop) {
                enclosing_loops_.push_back(b.id);
                WalkBlocks(b.body, loop_depth + 1);
                enclosing_loops_.pop_back();
            } else if (b.type == BlockType::kCondition) {
                WalkBlocks(b.then_blocks, loop_depth);
                WalkBlocks(b.else_blocks, loop_depth);
            }
        }
    }

    Definition& def_;
    const DefinitionLimits& limits_;
    Faults& faults_;
    std::map<std::string, std::string> all_ids_;
    std::map<std::string, const Block*> blocks_;
    std::set<std::string> visible_;
    std::vector<std::string> enclosing_loops_;
};

}  // namespace

void ValidateDefinition(Definition& def, const DefinitionLimits& limits, Faults& faults) {
    Validator(def, limits, faults).Run();
}

}  // namespace weft::engine

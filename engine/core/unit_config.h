// Loads the unit configuration the built-in checks read (config/unit.yaml and
// config/procurement-catalogue.yaml) into the Value::Record handed to every
// check as CheckInput::config, and the holiday calendar (config/holidays.yaml)
// into a Calendar. config/README.md documents the files key by key.
//
// Pure: the caller reads the files and hands in their text. Every problem
// found is reported, not only the first, as `file:line:column: what is wrong —
// how to fix` (LoadError). Never throws.
//
// Money is written in yuan ("100000.00", at most two decimals, more than
// zero) and stored as Money (fen); dates are YYYY-MM-DD and stored as Date;
// confidence tags are "V" | "S" | "U" (../shared/domain/RULES.md).
//
// The record the checks receive (keys absent when the file leaves them out):
//
//   unit:                   { name: text, jurisdiction: text, budget_level: text }
//   purchasing_department:  text (a department id)
//   default_fund_source:    text
//   large_amount:           list of { fund_source: text, from: Date,
//                             threshold: Money, confidence: text, source: text }
//   expense_standards:      { <category>: list of StandardEntry }
//     StandardEntry:        { from: Date, confidence: text, source: text,
//                             and at least one of
//                             limit: Money | per_person: Money |
//                             per_person_day: Money |
//                             per_person_day_by_class: { <class>: Money },
//                             companions: { small_group: int, max_small: int,
//                                           ratio_num: int, ratio_den: int } }
//   procurement:            { collective_decision: { methods: [text],
//                                                    large_amount: bool },
//                             split_purchase: { category_prefix: int,
//                                               excluded_methods: [text] },
//                             supplier_repeat: { count: int, days: int } }
//   self_check:             { sample_size: int, workflows: [text],
//                             reviewer_department: text }
//   procurement_catalogues: list of Catalogue, in file order
//     Catalogue:            { id: text, version: text, jurisdiction: text,
//                             budget_levels: [text], effective_from: Date,
//                             superseded_on: Date (optional), document: text,
//                             url: text, confidence: text,
//                             codes_confidence: text,
//                             decentralised: { goods|services|works: Threshold },
//                             open_tender:   { goods|services|works: Threshold },
//                             centralised: list of { code, name, object_type,
//                               scope, confidence: text,
//                               min_amount: Money (optional) } }
//     Threshold:            { amount: Money, confidence: text, source: text }
//
// The checks in core/checks.cc depend on this shape; a test loads the shipped
// files and runs the checks on the result.
#ifndef APPROVALD_CORE_UNIT_CONFIG_H_
#define APPROVALD_CORE_UNIT_CONFIG_H_

#include <optional>
#include <string_view>
#include <vector>

#include "approvald/org.h"
#include "approvald/value.h"
#include "core/calendar.h"
#include "core/load_error.h"

namespace approvald {

struct UnitConfigLoad {
  std::optional<Value::Record> config;  // set only when errors is empty
  // The unit file's errors, then the catalogue file's, each sorted by
  // position.
  std::vector<LoadError> errors;
};

// Parses config/unit.yaml (`unit_yaml`, named `unit_file` in errors) and
// config/procurement-catalogue.yaml (`catalogue_yaml`, `catalogue_file`) and
// returns the merged record above. An empty `catalogue_yaml` means no
// catalogue: the procurement checks then refuse to run.
//
// Checks, besides the shape of every key (unknown keys with "did you mean",
// missing required keys, types): money and dates parse; thresholds are more
// than zero and each decentralised threshold is below the open-tender one of
// the same object type; confidence tags are V, S or U; categories, classes,
// fund sources, jurisdictions and catalogue ids are ids ([a-z][a-z0-9_-]*);
// no two entries of one category or fund source share a `from`; catalogue ids
// are unique, no two catalogues of one jurisdiction and budget level share an
// effective_from, superseded_on is after effective_from; item codes are
// unique per catalogue and their object type matches the code's letter
// (A goods, B works, C services); the unit's jurisdiction and budget level
// have a catalogue; `default_fund_source` has a large_amount entry.
// When `org` is given, `purchasing_department` must be one of its departments
// and, if the organisation marks a purchasing department, that one; so must
// `self_check.reviewer_department`. `org` need only outlive the call.
UnitConfigLoad LoadUnitConfig(std::string_view unit_yaml, std::string_view unit_file,
                              std::string_view catalogue_yaml,
                              std::string_view catalogue_file, const Org* org = nullptr);

struct CatalogueLoad {
  std::optional<Value::List> catalogues;  // set only when errors is empty
  std::vector<LoadError> errors;
};

// Parses config/procurement-catalogue.yaml alone into the list stored under
// "procurement_catalogues" (the catalogue checks of LoadUnitConfig that do not
// need the unit file).
CatalogueLoad LoadProcurementCatalogues(std::string_view yaml, std::string_view file);

struct CalendarLoad {
  std::optional<Calendar> calendar;  // set only when errors is empty
  std::vector<int> years;            // the years the file covers, ascending
  std::vector<LoadError> errors;
};

// Parses config/holidays.yaml:
//   years:
//     - year: 2025
//       source: text          (required)
//       confidence: V|S|U     (required)
//       holidays: [ { name, from: date, to: date } ]
//       workdays: [ date, ... ]    (调休: weekend days that are worked)
// Checks: each year once, 1900..2999; every date in its year; from <= to and a
// holiday at most 15 days long; workdays are Saturdays or Sundays, listed
// once, and not inside a holiday; holidays of one year do not overlap.
CalendarLoad LoadHolidayCalendar(std::string_view yaml, std::string_view file);

}  // namespace approvald

#endif  // APPROVALD_CORE_UNIT_CONFIG_H_

// The built-in checks (core/checks.h) and the unit configuration they read
// (core/unit_config.h): procurement method boundaries per object type,
// catalogue selection by date, jurisdiction and budget level, centralised
// items, the Art. 28 split-purchase test condition by condition, supplier
// repetition, expense standards, the large-amount threshold, the loader's
// errors with their positions, and the shipped config files.
#include "core/checks.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/record_util.h"
#include "core/unit_config.h"
#include "loader_test_util.h"

namespace approvald {
namespace {

using ::testing::ElementsAre;
using testing::ErrorLines;
using ::testing::HasSubstr;
using testing::ReadTextFile;
using testing::SourceDir;

// ---------------------------------------------------------------------------
// A unit configuration with round figures, so each boundary is plain to see.

const char* const kUnit =
    R"yaml(unit: { name: 测试单位, jurisdiction: testland, budget_level: city }
purchasing_department: office
default_fund_source: fiscal
large_amount:
  - { fund_source: fiscal, from: 2020-01-01, threshold: "100000.00", confidence: S, source: "fiscal 2020" }
  - { fund_source: fiscal, from: 2025-01-01, threshold: "150000.00", confidence: V, source: "fiscal 2025" }
  - { fund_source: union, from: 2020-01-01, threshold: "30000.00", confidence: U, source: "union" }
expense_standards:
  meeting:
    - from: 2016-07-01
      per_person_day_by_class: { class1: "760.00", class2: "650.00", class3: "550.00" }
      confidence: S
      source: "会议费管理办法"
  office:
    - { from: 2020-01-01, limit: "2000.00", confidence: U, source: "office 2020" }
    - { from: 2024-01-01, limit: "3000.00", confidence: U, source: "office 2024" }
  travel:
    - { from: 2020-01-01, per_person_day: "180.00", confidence: U, source: "travel" }
  reception:
    - from: 2014-01-01
      per_person: "150.00"
      companions: { small_group: 10, max_small: 3, ratio: "1/3" }
      confidence: S
      source: "接待"
procurement:
  collective_decision: { methods: [open_tender], large_amount: true }
  split_purchase: { category_prefix: 0, excluded_methods: [open_tender] }
  supplier_repeat: { count: 3, days: 30 }
self_check: { sample_size: 5, workflows: [expense], reviewer_department: finance }
)yaml";

const char* const kCatalogue = R"yaml(catalogues:
  - id: testland-2020
    version: "2020"
    jurisdiction: testland
    budget_levels: [city, county]
    effective_from: 2020-01-01
    superseded_on: 2024-01-01
    document: "doc 2020"
    confidence: V
    decentralised:
      goods:    { amount: "1000000.00", confidence: V }
      services: { amount: "1000000.00", confidence: V }
      works:    { amount: "1200000.00", confidence: V }
    open_tender:
      goods:    { amount: "2000000.00", confidence: V }
      services: { amount: "2000000.00", confidence: V }
      works:    { amount: "4000000.00", confidence: U }
    centralised:
      - { code: A02010104, name: 台式计算机, object_type: goods, confidence: V }
      - { code: A020102, name: 计算机网络设备, object_type: goods, min_amount: "10000.00", confidence: V }
  - id: testland-2024
    version: "2024"
    jurisdiction: testland
    budget_levels: [city, county]
    effective_from: 2024-01-01
    document: "doc 2024"
    confidence: S
    decentralised:
      goods:    { amount: "500000.00", confidence: S }
      services: { amount: "500000.00", confidence: S }
      works:    { amount: "600000.00", confidence: S }
    open_tender:
      goods:    { amount: "3000000.00", confidence: S }
      services: { amount: "3000000.00", confidence: S }
    centralised:
      - { code: A02010105, name: 便携式计算机, object_type: goods, confidence: S }
  - id: testland-provincial
    version: "2020"
    jurisdiction: testland
    budget_levels: [provincial]
    effective_from: 2020-01-01
    document: "doc provincial"
    confidence: U
    decentralised: { goods: { amount: "700000.00", confidence: U } }
    open_tender: { goods: { amount: "2500000.00", confidence: U } }
    centralised: []
  - id: otherland-2020
    version: "2020"
    jurisdiction: otherland
    budget_levels: [city]
    effective_from: 2020-01-01
    document: "doc other"
    confidence: U
    decentralised: { goods: { amount: "50000.00", confidence: U } }
    open_tender: { goods: { amount: "100000.00", confidence: U } }
    centralised: []
)yaml";

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  size_t pos = text.find(from);
  if (pos == std::string::npos) {
    ADD_FAILURE() << "'" << from << "' not in the text";
    return text;
  }
  return text.replace(pos, from.size(), to);
}

Value::Record LoadOrDie(const std::string& unit,
                        const std::string& catalogue = kCatalogue) {
  UnitConfigLoad load =
      LoadUnitConfig(unit, "unit.yaml", catalogue, "catalogue.yaml", &testing::SeedOrg());
  EXPECT_THAT(ErrorLines(load.errors), ElementsAre());
  return load.config.value_or(Value::Record());
}

const Value::Record& TestConfig() {
  static const Value::Record* config = new Value::Record(LoadOrDie(kUnit));
  return *config;
}

Timestamp At(const char* shanghai_time) {
  auto t = ParseTimestamp(shanghai_time);
  EXPECT_TRUE(t.has_value()) << shanghai_time;
  return t.value_or(Timestamp{});
}

Value Yuan(const char* text) { return Value::Of(*ParseYuan(text)); }
Value Day(const char* text) { return Value::Of(*ParseDate(text)); }

// One check call with everything it reads held by value.
struct Call {
  FormData form;
  std::map<std::string, Value> params;
  CheckFacts facts;
  Value::Record config = TestConfig();
  Timestamp now = At("2023-06-15T10:00:00+08:00");

  Result<CheckOutcome> Run(const std::string& check) const {
    const CheckFn* fn = CheckRegistry::Builtin().Find(check);
    if (fn == nullptr) {
      ADD_FAILURE() << "no check " << check;
      return std::unexpected(Error{});
    }
    CheckInput in;
    in.form = &form;
    in.org = &testing::SeedOrg();
    in.submitter = PersonId("yang_fan");
    in.now = now;
    in.params = &params;
    in.facts = &facts;
    in.config = &config;
    return (*fn)(in);
  }

  // Runs `check` and expects an outcome (not an error).
  CheckOutcome Outcome(const std::string& check) const {
    auto out = Run(check);
    EXPECT_TRUE(out.has_value()) << (out ? "" : out.error().message);
    return out.value_or(CheckOutcome{});
  }
};

std::string Str(const Value::Record& r, const std::string& path) {
  const Value::Record* at = &r;
  std::string rest = path;
  for (size_t dot; (dot = rest.find('.')) != std::string::npos;) {
    at = &rec::Sub(*at, rest.substr(0, dot));
    rest = rest.substr(dot + 1);
  }
  return rec::Str(*at, rest);
}

const Value* Get(const Value::Record& r, const std::string& path) {
  const Value::Record* at = &r;
  std::string rest = path;
  for (size_t dot; (dot = rest.find('.')) != std::string::npos;) {
    at = &rec::Sub(*at, rest.substr(0, dot));
    rest = rest.substr(dot + 1);
  }
  return rec::Find(*at, rest);
}

// ---------------------------------------------------------------------------
// The registry.

TEST(CheckRegistryTest, BuiltinHasEveryDocumentedCheck) {
  EXPECT_THAT(CheckRegistry::Builtin().Names(),
              ElementsAre("decision_register", "duplicate_invoice", "expense_standard",
                          "large_amount", "passed_decision", "procurement_method",
                          "required_by_category", "split_purchase"));
}

// ---------------------------------------------------------------------------
// procurement_method

Call Purchase(const char* item, const char* type, const char* amount) {
  Call c;
  c.form["item_code"] = Value::Str(item);
  if (type[0] != '\0') c.form["object_type"] = Value::Str(type);
  c.form["amount"] = Yuan(amount);
  c.form["budget_project"] = Value::Str("BP-1");
  c.form["fund_source"] = Value::Str("fiscal");
  return c;
}

struct Boundary {
  const char* when;  // Shanghai time: picks the catalogue
  const char* type;
  const char* amount;
  const char* method;
};

class ProcurementBoundaryTest : public ::testing::TestWithParam<Boundary> {};

TEST_P(ProcurementBoundaryTest, DecidesTheMethod) {
  const Boundary& b = GetParam();
  // A code of the right letter that no catalogue centralises.
  const char* item = std::string(b.type) == "goods"   ? "A020301"
                     : std::string(b.type) == "works" ? "B010101"
                                                      : "C020101";
  Call c = Purchase(item, b.type, b.amount);
  c.now = At(b.when);
  CheckOutcome out = c.Outcome("procurement_method");
  EXPECT_EQ(Str(out.details, "method"), b.method)
      << b.type << " " << b.amount << " on " << b.when << ": "
      << Str(out.details, "rule_text");
  EXPECT_EQ(Str(out.details, "object_type"), b.type);
  EXPECT_EQ(*Get(out.details, "amount"), Yuan(b.amount));
}

constexpr const char* k2023 = "2023-06-15T10:00:00+08:00";
constexpr const char* k2024 = "2024-06-15T10:00:00+08:00";

INSTANTIATE_TEST_SUITE_P(
    Catalogue2020, ProcurementBoundaryTest,
    ::testing::Values(Boundary{k2023, "goods", "999999.99", "below_limit"},
                      Boundary{k2023, "goods", "1000000.00", "decentralised"},
                      Boundary{k2023, "goods", "1000000.01", "decentralised"},
                      Boundary{k2023, "goods", "1999999.99", "decentralised"},
                      Boundary{k2023, "goods", "2000000.00", "open_tender"},
                      Boundary{k2023, "goods", "2000000.01", "open_tender"},
                      Boundary{k2023, "services", "999999.99", "below_limit"},
                      Boundary{k2023, "services", "1000000.00", "decentralised"},
                      Boundary{k2023, "services", "1999999.99", "decentralised"},
                      Boundary{k2023, "services", "2000000.00", "open_tender"},
                      Boundary{k2023, "works", "1199999.99", "below_limit"},
                      Boundary{k2023, "works", "1200000.00", "decentralised"},
                      Boundary{k2023, "works", "1200000.01", "decentralised"},
                      Boundary{k2023, "works", "3999999.99", "decentralised"},
                      Boundary{k2023, "works", "4000000.00", "open_tender"},
                      Boundary{k2023, "works", "4000000.01", "open_tender"}));

INSTANTIATE_TEST_SUITE_P(
    Catalogue2024, ProcurementBoundaryTest,
    ::testing::Values(Boundary{k2024, "goods", "499999.99", "below_limit"},
                      Boundary{k2024, "goods", "500000.00", "decentralised"},
                      Boundary{k2024, "goods", "2999999.99", "decentralised"},
                      Boundary{k2024, "goods", "3000000.00", "open_tender"},
                      Boundary{k2024, "services", "499999.99", "below_limit"},
                      Boundary{k2024, "services", "500000.00", "decentralised"},
                      Boundary{k2024, "services", "3000000.00", "open_tender"},
                      Boundary{k2024, "works", "599999.99", "below_limit"},
                      Boundary{k2024, "works", "600000.00", "decentralised"},
                      // The 2024 catalogue has no open-tender threshold for works.
                      Boundary{k2024, "works", "9000000.00", "decentralised"}));

TEST(ProcurementMethodTest, RecordsTheRuleCatalogueAndThresholds) {
  Call c = Purchase("A020301", "goods", "2000000.00");
  CheckOutcome out = c.Outcome("procurement_method");
  EXPECT_EQ(Str(out.details, "rule"), "open_tender_threshold");
  EXPECT_EQ(Str(out.details, "rule_text"),
            "2000000.00 >= open-tender threshold 2000000.00 for goods");
  EXPECT_EQ(Str(out.details, "catalogue.id"), "testland-2020");
  EXPECT_EQ(Str(out.details, "catalogue.version"), "2020");
  EXPECT_EQ(*Get(out.details, "catalogue.effective_from"), Day("2020-01-01"));
  EXPECT_EQ(Str(out.details, "catalogue.document"), "doc 2020");
  EXPECT_EQ(*Get(out.details, "thresholds.decentralised"), Yuan("1000000.00"));
  EXPECT_EQ(*Get(out.details, "thresholds.open_tender"), Yuan("2000000.00"));
  EXPECT_EQ(Str(out.details, "thresholds.open_tender_confidence"), "V");
  EXPECT_EQ(Str(out.details, "budget_project"), "BP-1");
  EXPECT_EQ(*Get(out.details, "fiscal_year"), Value::Int(2023));
  EXPECT_EQ(*Get(out.details, "item.centralised"), Value::Bool(false));
}

TEST(ProcurementMethodTest, MissingThresholdIsRecordedAsNull) {
  Call c = Purchase("B010101", "works", "9000000.00");
  c.now = At(k2024);
  CheckOutcome out = c.Outcome("procurement_method");
  EXPECT_EQ(Str(out.details, "catalogue.id"), "testland-2024");
  EXPECT_TRUE(Get(out.details, "thresholds.open_tender")->is_null());
  EXPECT_EQ(*Get(out.details, "open_tender_required"), Value::Bool(false));
}

TEST(ProcurementMethodTest, CatalogueVersionFollowsTheShanghaiDate) {
  // 2023-12-31T16:30Z is already 2024-01-01 00:30 in Shanghai.
  Call c = Purchase("A020301", "goods", "600000.00");
  c.now = At("2023-12-31T16:30:00Z");
  CheckOutcome out = c.Outcome("procurement_method");
  EXPECT_EQ(Str(out.details, "catalogue.id"), "testland-2024");
  EXPECT_EQ(Str(out.details, "method"), "decentralised");
  EXPECT_EQ(*Get(out.details, "fiscal_year"), Value::Int(2024));
  // A minute before Shanghai midnight the 2020 catalogue still applies.
  c.now = At("2023-12-31T15:59:00Z");
  out = c.Outcome("procurement_method");
  EXPECT_EQ(Str(out.details, "catalogue.id"), "testland-2020");
  EXPECT_EQ(Str(out.details, "method"), "below_limit");
  EXPECT_EQ(*Get(out.details, "fiscal_year"), Value::Int(2023));
}

TEST(ProcurementMethodTest, FiscalYearFromTheFormWins) {
  Call c = Purchase("A020301", "goods", "600000.00");
  c.form["fiscal_year"] = Value::Int(2022);
  EXPECT_EQ(*Get(c.Outcome("procurement_method").details, "fiscal_year"),
            Value::Int(2022));
}

TEST(ProcurementMethodTest, JurisdictionAndBudgetLevelPickTheCatalogue) {
  Call c = Purchase("A020301", "goods", "800000.00");
  Value::Record unit = rec::Sub(c.config, "unit");
  unit["budget_level"] = Value::Str("provincial");
  c.config["unit"] = Value::Of(unit);
  CheckOutcome out = c.Outcome("procurement_method");
  EXPECT_EQ(Str(out.details, "catalogue.id"), "testland-provincial");
  EXPECT_EQ(Str(out.details, "method"), "decentralised");  // >= 700000

  unit["jurisdiction"] = Value::Str("otherland");
  unit["budget_level"] = Value::Str("city");
  c.config["unit"] = Value::Of(unit);
  out = c.Outcome("procurement_method");
  EXPECT_EQ(Str(out.details, "catalogue.id"), "otherland-2020");
  EXPECT_EQ(Str(out.details, "method"), "open_tender");  // >= 100000
}

TEST(ProcurementMethodTest, NoCatalogueInForceIsAConfigurationError) {
  Call c = Purchase("A020301", "goods", "800000.00");
  c.now = At("2019-12-31T10:00:00+08:00");  // before every catalogue
  auto out = c.Run("procurement_method");
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().code, ErrorCode::kInternal);
  EXPECT_EQ(out.error().reason, "no_catalogue_in_force");
  EXPECT_THAT(out.error().message, HasSubstr("testland"));
  EXPECT_THAT(out.error().message, HasSubstr("2019-12-31"));

  // A superseded catalogue without a successor does not apply.
  Value::Record unit = rec::Sub(c.config, "unit");
  unit["budget_level"] = Value::Str("provincial");
  c.config["unit"] = Value::Of(unit);
  Value::List cats = rec::List(c.config, "procurement_catalogues");
  for (Value& v : cats) {
    Value::Record r = v.as_record();
    if (rec::Str(r, "id") == "testland-provincial") {
      r["superseded_on"] = Day("2023-01-01");
      v = Value::Of(r);
    }
  }
  c.config["procurement_catalogues"] = Value::Of(cats);
  c.now = At(k2023);
  out = c.Run("procurement_method");
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().reason, "no_catalogue_in_force");
}

TEST(ProcurementMethodTest, CentralisedItemsGoToTheCentralAgencyAtAnyAmount) {
  Call c = Purchase("A02010104", "goods", "3000.00");
  CheckOutcome out = c.Outcome("procurement_method");
  EXPECT_EQ(Str(out.details, "method"), "centralised");
  EXPECT_EQ(Str(out.details, "rule"), "centralised_item");
  EXPECT_EQ(Str(out.details, "item.name"), "台式计算机");
  EXPECT_EQ(*Get(out.details, "item.centralised"), Value::Bool(true));
  EXPECT_EQ(out.verdict, CheckVerdict::kPass);

  // Over the open-tender threshold it stays centralised but open tender is
  // required, which needs the collective decision.
  c.form["amount"] = Yuan("2500000.00");
  out = c.Outcome("procurement_method");
  EXPECT_EQ(Str(out.details, "method"), "centralised");
  EXPECT_EQ(*Get(out.details, "open_tender_required"), Value::Bool(true));
  EXPECT_EQ(out.verdict, CheckVerdict::kFlag);
  EXPECT_THAT(out.reasons, ElementsAre("collective_decision_required:open_tender",
                                       "collective_decision_required:large_amount"));
}

TEST(ProcurementMethodTest, CentralisedItemMinimumAmountIsABoundary) {
  Call c = Purchase("A020102", "goods", "9999.99");
  EXPECT_EQ(Str(c.Outcome("procurement_method").details, "method"), "below_limit");
  c.form["amount"] = Yuan("10000.00");
  EXPECT_EQ(Str(c.Outcome("procurement_method").details, "method"), "centralised");
}

TEST(ProcurementMethodTest, CentralisedListBelongsToTheCatalogueVersion) {
  Call c = Purchase("A02010104", "goods", "3000.00");
  c.now = At(k2024);  // the 2024 catalogue centralises laptops, not desktops
  EXPECT_EQ(Str(c.Outcome("procurement_method").details, "method"), "below_limit");
  c.form["item_code"] = Value::Str("A02010105");
  EXPECT_EQ(Str(c.Outcome("procurement_method").details, "method"), "centralised");
}

TEST(ProcurementMethodTest, ObjectTypeDefaultsToTheCodeLetter) {
  Call c = Purchase("C020101", "", "1000000.00");
  CheckOutcome out = c.Outcome("procurement_method");
  EXPECT_EQ(Str(out.details, "object_type"), "services");
  EXPECT_EQ(Str(out.details, "method"), "decentralised");
  c = Purchase("B010101", "", "1000000.00");
  out = c.Outcome("procurement_method");
  EXPECT_EQ(Str(out.details, "object_type"), "works");
  EXPECT_EQ(Str(out.details, "method"), "below_limit");  // works: 1200000
}

TEST(ProcurementMethodTest, RequestsItCannotClassifyFail) {
  Call c = Purchase("A020301", "services", "1000.00");
  CheckOutcome out = c.Outcome("procurement_method");
  EXPECT_EQ(out.verdict, CheckVerdict::kFail);
  EXPECT_THAT(out.reasons, ElementsAre("object_type_mismatch:A020301:services"));

  c = Purchase("A020301", "stuff", "1000.00");
  EXPECT_THAT(c.Outcome("procurement_method").reasons,
              ElementsAre("invalid_object_type:stuff"));

  c = Purchase("X-1", "", "1000.00");
  EXPECT_THAT(c.Outcome("procurement_method").reasons,
              ElementsAre("procurement_fields_missing:object_type"));

  c = Purchase("A020301", "goods", "1000.00");
  c.form.erase("amount");
  c.form.erase("item_code");
  out = c.Outcome("procurement_method");
  EXPECT_EQ(out.verdict, CheckVerdict::kFail);
  EXPECT_THAT(out.reasons, ElementsAre("procurement_fields_missing:item_code",
                                       "procurement_fields_missing:amount"));
}

TEST(ProcurementMethodTest, ParamsNameTheFormFields) {
  Call c;
  c.form["pinmu"] = Value::Str("A020301");
  c.form["kind"] = Value::Str("goods");
  c.form["budget"] = Yuan("1500000.00");
  c.form["year"] = Value::Int(2021);
  c.form["project"] = Value::Str("P-9");
  c.params["item_field"] = Value::Str("pinmu");
  c.params["object_type_field"] = Value::Str("kind");
  c.params["amount_field"] = Value::Str("budget");
  c.params["fiscal_year_field"] = Value::Str("year");
  c.params["budget_project_field"] = Value::Str("project");
  CheckOutcome out = c.Outcome("procurement_method");
  EXPECT_EQ(Str(out.details, "method"), "decentralised");
  EXPECT_EQ(*Get(out.details, "fiscal_year"), Value::Int(2021));
  EXPECT_EQ(Str(out.details, "budget_project"), "P-9");
}

TEST(ProcurementMethodTest, LargeAmountThresholdFlagsTheCollectivePath) {
  Call c = Purchase("A020301", "goods", "99999.99");
  CheckOutcome out = c.Outcome("procurement_method");
  EXPECT_EQ(out.verdict, CheckVerdict::kPass);
  EXPECT_EQ(*Get(out.details, "collective_decision"), Value::Bool(false));
  EXPECT_EQ(*Get(out.details, "large_amount.threshold"), Yuan("100000.00"));
  EXPECT_EQ(Str(out.details, "large_amount.source"), "fiscal 2020");

  c.form["amount"] = Yuan("100000.00");
  out = c.Outcome("procurement_method");
  EXPECT_EQ(out.verdict, CheckVerdict::kFlag);
  EXPECT_THAT(out.reasons, ElementsAre("collective_decision_required:large_amount"));
  EXPECT_EQ(*Get(out.details, "collective_decision"), Value::Bool(true));

  // From 2025 the fiscal threshold is 150000.
  c.form["amount"] = Yuan("120000.00");
  c.now = At("2025-03-01T10:00:00+08:00");
  out = c.Outcome("procurement_method");
  EXPECT_EQ(out.verdict, CheckVerdict::kPass);
  EXPECT_EQ(*Get(out.details, "large_amount.threshold"), Yuan("150000.00"));
  EXPECT_EQ(*Get(out.details, "large_amount.from"), Day("2025-01-01"));
}

TEST(ProcurementMethodTest, CollectivePathIsConfigurable) {
  Call c = Purchase("A020301", "goods", "1500000.00");
  Value::Record proc = rec::Sub(c.config, "procurement");
  Value::Record collective;
  collective["methods"] = rec::StrList({"decentralised", "open_tender"});
  collective["large_amount"] = Value::Bool(false);
  proc["collective_decision"] = Value::Of(collective);
  c.config["procurement"] = Value::Of(proc);
  CheckOutcome out = c.Outcome("procurement_method");
  EXPECT_THAT(out.reasons, ElementsAre("collective_decision_required:decentralised"));
  c.form["amount"] = Yuan("500000.00");  // below_limit, over the large amount
  EXPECT_EQ(c.Outcome("procurement_method").verdict, CheckVerdict::kPass);
}

// ---------------------------------------------------------------------------
// large_amount

TEST(LargeAmountTest, ThresholdIsInclusivePerFundSource) {
  Call c;
  c.form["amount"] = Yuan("99999.99");
  c.form["fund_source"] = Value::Str("fiscal");
  CheckOutcome out = c.Outcome("large_amount");
  EXPECT_EQ(out.verdict, CheckVerdict::kPass);
  EXPECT_EQ(*Get(out.details, "threshold"), Yuan("100000.00"));
  EXPECT_EQ(Str(out.details, "confidence"), "S");

  c.form["amount"] = Yuan("100000.00");
  out = c.Outcome("large_amount");
  EXPECT_EQ(out.verdict, CheckVerdict::kFlag);
  EXPECT_THAT(out.reasons, ElementsAre("large_amount:fiscal"));

  c.form["fund_source"] = Value::Str("union");
  c.form["amount"] = Yuan("30000.00");
  out = c.Outcome("large_amount");
  EXPECT_THAT(out.reasons, ElementsAre("large_amount:union"));
  EXPECT_EQ(Str(out.details, "source"), "union");
  c.form["amount"] = Yuan("29999.99");
  EXPECT_EQ(c.Outcome("large_amount").verdict, CheckVerdict::kPass);
}

TEST(LargeAmountTest, UnknownFundSourceUsesTheDefaultAndSaysSo) {
  Call c;
  c.form["amount"] = Yuan("100000.00");
  c.form["fund_source"] = Value::Str("donation");
  CheckOutcome out = c.Outcome("large_amount");
  EXPECT_THAT(out.reasons, ElementsAre("large_amount:fiscal"));
  EXPECT_EQ(*Get(out.details, "fund_source_fallback"), Value::Bool(true));
  c.form.erase("fund_source");
  out = c.Outcome("large_amount");
  EXPECT_EQ(Str(out.details, "fund_source"), "fiscal");
  EXPECT_EQ(Get(out.details, "fund_source_fallback"), nullptr);
}

TEST(LargeAmountTest, MissingAmountFails) {
  Call c;
  c.form["sum"] = Yuan("1.00");
  CheckOutcome out = c.Outcome("large_amount");
  EXPECT_EQ(out.verdict, CheckVerdict::kFail);
  EXPECT_THAT(out.reasons, ElementsAre("fields_missing:amount"));
  c.params["amount_field"] = Value::Str("sum");
  EXPECT_EQ(c.Outcome("large_amount").verdict, CheckVerdict::kPass);
}

TEST(LargeAmountTest, NoThresholdInForceIsAConfigurationError) {
  Call c;
  c.form["amount"] = Yuan("1.00");
  c.now = At("2019-06-01T10:00:00+08:00");
  auto out = c.Run("large_amount");
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().reason, "no_large_amount_threshold");
}

// ---------------------------------------------------------------------------
// split_purchase (化整为零, 政府采购法实施条例 Art. 28)

Value PurchaseFact(int64_t instance, const char* project, const char* item, int64_t year,
                   const char* amount, const char* method, const char* supplier,
                   const char* date) {
  Value::Record r;
  r["instance"] = Value::Int(instance);
  r["budget_project"] = Value::Str(project);
  r["item"] = Value::Str(item);
  r["fiscal_year"] = Value::Int(year);
  r["amount"] = Yuan(amount);
  r["method"] = Value::Str(method);
  r["supplier"] = Value::Str(supplier);
  r["date"] = Day(date);
  return Value::Of(r);
}

// This request (600000) and two earlier ones (700000 each) of one project,
// item and year: 2000000.00, exactly the 2020 open-tender threshold for goods.
Call SplitCase() {
  Call c = Purchase("A020301", "goods", "600000.00");
  c.form["supplier"] = Value::Str("S1");
  c.facts.values[kFactPurchases] = Value::Of(Value::List{
      PurchaseFact(11, "BP-1", "A020301", 2023, "700000.00", "below_limit", "S2",
                   "2023-03-01"),
      PurchaseFact(12, "BP-1", "A020301", 2023, "700000.00", "below_limit", "S3",
                   "2023-04-01"),
  });
  return c;
}

void SetFact(Call* c, size_t index, const std::string& key, Value v) {
  Value::List list = c->facts.values[kFactPurchases].as_list();
  Value::Record r = list[index].as_record();
  r[key] = std::move(v);
  list[index] = Value::Of(r);
  c->facts.values[kFactPurchases] = Value::Of(list);
}

TEST(SplitPurchaseTest, CumulativeSumReachingOpenTenderIsFlagged) {
  Call c = SplitCase();
  CheckOutcome out = c.Outcome("split_purchase");
  EXPECT_EQ(out.verdict, CheckVerdict::kFlag);
  EXPECT_THAT(out.reasons, ElementsAre("split_purchase:11,12"));
  EXPECT_EQ(*Get(out.details, "split.cumulative"), Yuan("2000000.00"));
  EXPECT_EQ(*Get(out.details, "split.threshold"), Yuan("2000000.00"));
  EXPECT_EQ(Str(out.details, "split.result"), "split");
  EXPECT_EQ(Str(out.details, "split.catalogue.id"), "testland-2020");
  EXPECT_EQ(Get(out.details, "split.matched")->as_list().size(), 2u);
}

TEST(SplitPurchaseTest, JustBelowTheThresholdPasses) {
  Call c = SplitCase();
  c.form["amount"] = Yuan("599999.99");
  CheckOutcome out = c.Outcome("split_purchase");
  EXPECT_EQ(out.verdict, CheckVerdict::kPass);
  EXPECT_EQ(Str(out.details, "split.result"), "below_threshold");
  EXPECT_EQ(*Get(out.details, "split.cumulative"), Yuan("1999999.99"));
}

TEST(SplitPurchaseTest, AnotherBudgetProjectDoesNotCount) {
  Call c = SplitCase();
  SetFact(&c, 1, "budget_project", Value::Str("BP-2"));
  EXPECT_EQ(c.Outcome("split_purchase").verdict, CheckVerdict::kPass);
}

TEST(SplitPurchaseTest, AnotherItemDoesNotCount) {
  Call c = SplitCase();
  SetFact(&c, 1, "item", Value::Str("A020302"));
  EXPECT_EQ(c.Outcome("split_purchase").verdict, CheckVerdict::kPass);
}

TEST(SplitPurchaseTest, AnotherFiscalYearDoesNotCount) {
  Call c = SplitCase();
  SetFact(&c, 1, "fiscal_year", Value::Int(2022));
  EXPECT_EQ(c.Outcome("split_purchase").verdict, CheckVerdict::kPass);
  // The request's own fiscal year comes from the form when given.
  c.form["fiscal_year"] = Value::Int(2022);
  CheckOutcome out = c.Outcome("split_purchase");
  EXPECT_EQ(out.verdict, CheckVerdict::kPass);  // only #12 is in 2022
  EXPECT_EQ(*Get(out.details, "split.cumulative"), Yuan("1300000.00"));
}

TEST(SplitPurchaseTest, OpenTenderPurchasesDoNotCount) {
  Call c = SplitCase();
  SetFact(&c, 1, "method", Value::Str("open_tender"));
  EXPECT_EQ(c.Outcome("split_purchase").verdict, CheckVerdict::kPass);
}

TEST(SplitPurchaseTest, ExemptPurchasesDoNotCount) {
  Call c = SplitCase();
  SetFact(&c, 0, "exempt", Value::Bool(true));
  EXPECT_EQ(c.Outcome("split_purchase").verdict, CheckVerdict::kPass);
}

TEST(SplitPurchaseTest, ARequestThatIsItselfOpenTenderIsNoSplit) {
  Call c = SplitCase();
  c.form["amount"] = Yuan("2000000.00");
  CheckOutcome out = c.Outcome("split_purchase");
  EXPECT_EQ(out.verdict, CheckVerdict::kPass);
  EXPECT_EQ(Str(out.details, "split.result"), "request_is_open_tender");
}

TEST(SplitPurchaseTest, CategoryPrefixGroupsRelatedCodes) {
  Call c = SplitCase();
  c.form["item_code"] = Value::Str("A02030101");
  SetFact(&c, 0, "item", Value::Str("A02030102"));
  SetFact(&c, 1, "item", Value::Str("A02030199"));
  EXPECT_EQ(c.Outcome("split_purchase").verdict, CheckVerdict::kPass);
  Value::Record proc = rec::Sub(c.config, "procurement");
  Value::Record split = rec::Sub(proc, "split_purchase");
  split["category_prefix"] = Value::Int(7);
  proc["split_purchase"] = Value::Of(split);
  c.config["procurement"] = Value::Of(proc);
  CheckOutcome out = c.Outcome("split_purchase");
  EXPECT_THAT(out.reasons, ElementsAre("split_purchase:11,12"));
  EXPECT_EQ(Str(out.details, "split.match"), "prefix:7");
}

TEST(SplitPurchaseTest, BudgetProjectIsRequired) {
  Call c = SplitCase();
  c.form.erase("budget_project");
  CheckOutcome out = c.Outcome("split_purchase");
  EXPECT_EQ(out.verdict, CheckVerdict::kFail);
  EXPECT_THAT(out.reasons, ElementsAre("procurement_fields_missing:budget_project"));
}

TEST(SplitPurchaseTest, NoFactsMeansNothingToAdd) {
  Call c = SplitCase();
  c.facts.values.clear();
  CheckOutcome out = c.Outcome("split_purchase");
  EXPECT_EQ(out.verdict, CheckVerdict::kPass);
  EXPECT_EQ(*Get(out.details, "split.purchases_known"), Value::Int(0));
}

TEST(SplitPurchaseTest, MalformedFactsAreAnError) {
  Call c = SplitCase();
  SetFact(&c, 1, "amount", Value::Str("700000"));
  auto out = c.Run("split_purchase");
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().code, ErrorCode::kInternal);
  EXPECT_EQ(out.error().reason, "bad_facts");
  EXPECT_THAT(out.error().message, HasSubstr("purchases[1]"));
  EXPECT_THAT(out.error().message, HasSubstr("'amount'"));
}

// Supplier repetition: count 3 within 30 days (today 2023-06-15).
Call SupplierCase() {
  Call c = Purchase("A020301", "goods", "5000.00");
  c.form["supplier"] = Value::Str("S1");
  c.facts.values[kFactPurchases] = Value::Of(Value::List{
      PurchaseFact(21, "BP-7", "A020999", 2023, "4000.00", "below_limit", "S1",
                   "2023-06-01"),
      PurchaseFact(22, "BP-8", "C020101", 2023, "3000.00", "below_limit", "S1",
                   "2023-05-17"),
      PurchaseFact(23, "BP-8", "C020101", 2023, "3000.00", "below_limit", "S9",
                   "2023-06-10"),
  });
  return c;
}

TEST(SplitPurchaseTest, RepeatedSupplierInTheWindowIsFlagged) {
  Call c = SupplierCase();
  CheckOutcome out = c.Outcome("split_purchase");
  EXPECT_EQ(out.verdict, CheckVerdict::kFlag);
  EXPECT_THAT(out.reasons, ElementsAre("supplier_repeat:S1:21,22"));
  EXPECT_EQ(*Get(out.details, "supplier_repeat.count"), Value::Int(3));
  EXPECT_EQ(*Get(out.details, "supplier_repeat.days"), Value::Int(30));
}

TEST(SplitPurchaseTest, SupplierWindowIsABoundary) {
  Call c = SupplierCase();
  SetFact(&c, 1, "date", Day("2023-05-16"));  // 30 days before: outside
  CheckOutcome out = c.Outcome("split_purchase");
  EXPECT_EQ(out.verdict, CheckVerdict::kPass);
  EXPECT_EQ(*Get(out.details, "supplier_repeat.count"), Value::Int(2));
}

TEST(SplitPurchaseTest, OtherSuppliersAndUnnamedSuppliersDoNotCount) {
  Call c = SupplierCase();
  SetFact(&c, 1, "supplier", Value::Str("S9"));
  EXPECT_EQ(c.Outcome("split_purchase").verdict, CheckVerdict::kPass);
  c = SupplierCase();
  c.form.erase("supplier");
  CheckOutcome out = c.Outcome("split_purchase");
  EXPECT_EQ(out.verdict, CheckVerdict::kPass);
  EXPECT_EQ(Get(out.details, "supplier_repeat"), nullptr);
}

TEST(SplitPurchaseTest, SupplierCheckIsOffWithoutItsConfiguration) {
  Call c = SupplierCase();
  Value::Record proc = rec::Sub(c.config, "procurement");
  proc.erase("supplier_repeat");
  c.config["procurement"] = Value::Of(proc);
  EXPECT_EQ(c.Outcome("split_purchase").verdict, CheckVerdict::kPass);
}

// ---------------------------------------------------------------------------
// expense_standard

Call Expense(const char* category, const char* amount) {
  Call c;
  c.form["category"] = Value::Str(category);
  c.form["amount"] = Yuan(amount);
  return c;
}

TEST(ExpenseStandardTest, MeetingPerPersonPerDayByClass) {
  Call c = Expense("meeting", "15200.00");  // 760 x 10 x 2
  c.form["standard_class"] = Value::Str("class1");
  c.form["attendees"] = Value::Int(10);
  c.form["days"] = Value::Int(2);
  CheckOutcome out = c.Outcome("expense_standard");
  EXPECT_EQ(out.verdict, CheckVerdict::kPass);
  EXPECT_EQ(*Get(out.details, "limit"), Yuan("15200.00"));
  EXPECT_EQ(Str(out.details, "rule"), "per_person_day_by_class");
  EXPECT_EQ(*Get(out.details, "rate"), Yuan("760.00"));
  EXPECT_EQ(Str(out.details, "source"), "会议费管理办法");
  EXPECT_EQ(Str(out.details, "confidence"), "S");

  c.form["amount"] = Yuan("15200.01");
  out = c.Outcome("expense_standard");
  EXPECT_EQ(out.verdict, CheckVerdict::kFlag);
  EXPECT_THAT(out.reasons, ElementsAre("over_standard:meeting"));

  c.form["standard_class"] = Value::Str("class3");  // 550 x 10 x 2 = 11000
  c.form["amount"] = Yuan("11000.00");
  EXPECT_EQ(c.Outcome("expense_standard").verdict, CheckVerdict::kPass);
  c.form["amount"] = Yuan("11000.01");
  EXPECT_EQ(c.Outcome("expense_standard").verdict, CheckVerdict::kFlag);
}

TEST(ExpenseStandardTest, MissingOrUnknownClassIsFlagged) {
  Call c = Expense("meeting", "100.00");
  c.form["attendees"] = Value::Int(1);
  c.form["days"] = Value::Int(1);
  CheckOutcome out = c.Outcome("expense_standard");
  EXPECT_EQ(out.verdict, CheckVerdict::kFlag);
  EXPECT_THAT(out.reasons, ElementsAre("standard_fields_missing:standard_class"));
  c.form["standard_class"] = Value::Str("class9");
  EXPECT_THAT(c.Outcome("expense_standard").reasons, ElementsAre("unknown_class:class9"));
}

TEST(ExpenseStandardTest, MissingPeopleOrDaysIsFlagged) {
  Call c = Expense("travel", "100.00");
  c.form["attendees"] = Value::Int(1);
  CheckOutcome out = c.Outcome("expense_standard");
  EXPECT_EQ(out.verdict, CheckVerdict::kFlag);
  EXPECT_THAT(out.reasons, ElementsAre("standard_fields_missing:days"));
  // Renamed fields through params.
  c.form["n_days"] = Value::Int(2);
  c.params["days_field"] = Value::Str("n_days");
  out = c.Outcome("expense_standard");
  EXPECT_EQ(out.verdict, CheckVerdict::kPass);
  EXPECT_EQ(*Get(out.details, "limit"), Yuan("360.00"));
}

TEST(ExpenseStandardTest, OverStandardWithoutJustificationFails) {
  Call c = Expense("office", "2500.00");
  c.params["justification_field"] = Value::Str("justification");
  CheckOutcome out = c.Outcome("expense_standard");
  EXPECT_EQ(out.verdict, CheckVerdict::kFail);
  EXPECT_THAT(out.reasons,
              ElementsAre("over_standard:office", "justification_required:office"));
  c.form["justification"] = Value::Str("   ");
  EXPECT_EQ(c.Outcome("expense_standard").verdict, CheckVerdict::kFail);
  c.form["justification"] = Value::Str("紧急采购");
  out = c.Outcome("expense_standard");
  EXPECT_EQ(out.verdict, CheckVerdict::kFlag);
  EXPECT_THAT(out.reasons, ElementsAre("over_standard:office"));
}

TEST(ExpenseStandardTest, StandardInForceFollowsTheDate) {
  Call c = Expense("office", "2500.00");
  CheckOutcome out = c.Outcome("expense_standard");
  EXPECT_EQ(out.verdict, CheckVerdict::kFlag);
  EXPECT_EQ(*Get(out.details, "limit"), Yuan("2000.00"));
  EXPECT_EQ(Str(out.details, "source"), "office 2020");
  c.now = At(k2024);
  out = c.Outcome("expense_standard");
  EXPECT_EQ(out.verdict, CheckVerdict::kPass);
  EXPECT_EQ(*Get(out.details, "limit"), Yuan("3000.00"));
  EXPECT_EQ(*Get(out.details, "from"), Day("2024-01-01"));
  c.now = At("2019-06-01T10:00:00+08:00");
  out = c.Outcome("expense_standard");
  EXPECT_EQ(out.verdict, CheckVerdict::kPass);
  EXPECT_EQ(Str(out.details, "standard"), "none in force on 2019-06-01");
}

TEST(ExpenseStandardTest, CategoryWithoutStandardPasses) {
  CheckOutcome out = Expense("other", "999999.00").Outcome("expense_standard");
  EXPECT_EQ(out.verdict, CheckVerdict::kPass);
  EXPECT_EQ(Str(out.details, "standard"), "none configured");
}

TEST(ExpenseStandardTest, ReceptionCompanionsRule) {
  Call c = Expense("reception", "1950.00");  // 150 x 13 people
  c.form["attendees"] = Value::Int(13);
  c.form["guests"] = Value::Int(10);
  c.form["companions"] = Value::Int(3);
  CheckOutcome out = c.Outcome("expense_standard");
  EXPECT_EQ(out.verdict, CheckVerdict::kPass);
  EXPECT_EQ(*Get(out.details, "companions_allowed"), Value::Int(3));
  c.form["companions"] = Value::Int(4);
  out = c.Outcome("expense_standard");
  EXPECT_EQ(out.verdict, CheckVerdict::kFlag);
  EXPECT_THAT(out.reasons, ElementsAre("over_standard:reception:companions"));
  // 12 guests: at most 12 / 3 = 4.
  c.form["guests"] = Value::Int(12);
  c.form["attendees"] = Value::Int(16);
  c.form["amount"] = Yuan("2400.00");
  EXPECT_EQ(c.Outcome("expense_standard").verdict, CheckVerdict::kPass);
  c.form["companions"] = Value::Int(5);
  EXPECT_THAT(c.Outcome("expense_standard").reasons,
              ElementsAre("over_standard:reception:companions"));
  // Both rules at once.
  c.form["companions"] = Value::Int(4);
  c.form["amount"] = Yuan("2400.01");
  EXPECT_THAT(c.Outcome("expense_standard").reasons,
              ElementsAre("over_standard:reception"));
}

TEST(ExpenseStandardTest, HandBuiltRecordShapeStillWorks) {
  // A single record per category (no dates), as tools and benchmarks build.
  Call c = Expense("office", "20000.01");
  Value::Record office, standards;
  office["limit"] = Yuan("20000.00");
  office["source"] = Value::Str("办公用品采购管理办法");
  standards["office"] = Value::Of(office);
  c.config["expense_standards"] = Value::Of(standards);
  CheckOutcome out = c.Outcome("expense_standard");
  EXPECT_EQ(out.verdict, CheckVerdict::kFlag);
  EXPECT_EQ(Str(out.details, "source"), "办公用品采购管理办法");
}

TEST(ExpenseStandardTest, HugeCountsAreRefusedNotOverflowed) {
  Call c = Expense("travel", "1.00");
  c.form["attendees"] = Value::Int(INT64_MAX / 2);
  c.form["days"] = Value::Int(4);
  auto out = c.Run("expense_standard");
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().reason, "bad_form");
}

// ---------------------------------------------------------------------------
// duplicate_invoice (facts "invoice_numbers")

TEST(DuplicateInvoiceTest, RefusesNumbersUsedElsewhereOrTwice) {
  Call c;
  Value::Record a, b, d;
  a["number"] = Value::Str("FP-1");
  b["number"] = Value::Str("FP-2");
  d["number"] = Value::Str("FP-1");
  c.form["invoices"] = Value::Of(Value::List{Value::Of(a), Value::Of(b), Value::Of(d)});
  c.facts.values[kFactInvoiceNumbers] = Value::Of(Value::List{Value::Str("FP-2")});
  CheckOutcome out = c.Outcome("duplicate_invoice");
  EXPECT_EQ(out.verdict, CheckVerdict::kFail);
  EXPECT_THAT(out.reasons,
              ElementsAre("duplicate_invoice:FP-2", "duplicate_in_request:FP-1"));
  c.facts.values.clear();
  c.form["invoices"] = Value::Of(Value::List{Value::Of(a), Value::Of(b)});
  EXPECT_EQ(c.Outcome("duplicate_invoice").verdict, CheckVerdict::kPass);
}

// ---------------------------------------------------------------------------
// passed_decision and decision_register (facts "decisions")

Value DecisionFact(int64_t instance, const char* number, const char* result,
                   const char* category, const char* amount = nullptr) {
  Value::Record r;
  r["instance"] = Value::Int(instance);
  r["number"] = Value::Str(number);
  r["result"] = Value::Str(result);
  r["category"] = Value::Str(category);
  r["date"] = Day("2024-03-06");
  r["amount"] = amount ? Yuan(amount) : Value::Null();
  r["topic"] = Value::Str("议题");
  return Value::Of(std::move(r));
}

Call LinkedClaim(const char* ref, const char* amount, Value::List decisions) {
  Call c;
  if (ref) c.form["decision_ref"] = Value::Str(ref);
  c.form["amount"] = Yuan(amount);
  c.params["categories"] =
      Value::Of(Value::List{Value::Str("large_funds"), Value::Str("major_project")});
  c.facts.values[kFactDecisions] = Value::Of(std::move(decisions));
  return c;
}

TEST(PassedDecisionTest, PassesOnAPassedDecisionOfASpendingCategory) {
  Call c = LinkedClaim(
      " 梅园绿〔2024〕5号 ", "150000.00",
      {DecisionFact(7, "梅园绿〔2024〕5号", "passed", "large_funds", "1200000.00")});
  CheckOutcome out = c.Outcome("passed_decision");
  EXPECT_EQ(out.verdict, CheckVerdict::kPass) << ::testing::PrintToString(out.reasons);
  EXPECT_EQ(Str(out.details, "ref"), "梅园绿〔2024〕5号");  // trimmed
  EXPECT_EQ(rec::Int(rec::Sub(out.details, "decision"), "instance"), 7);
  EXPECT_EQ(Str(out.details, "decision.category"), "large_funds");
}

TEST(PassedDecisionTest, RefusesMissingUnknownAndAmbiguousNumbers) {
  Call none = LinkedClaim(nullptr, "150000.00", {});
  EXPECT_THAT(none.Outcome("passed_decision").reasons,
              ElementsAre("decision_ref_missing"));
  none.form["decision_ref"] = Value::Str("   ");
  EXPECT_THAT(none.Outcome("passed_decision").reasons,
              ElementsAre("decision_ref_missing"));

  // A fact for another number does not help.
  Call bogus =
      LinkedClaim("梅园绿〔2024〕99号", "150000.00",
                  {DecisionFact(7, "梅园绿〔2024〕5号", "passed", "large_funds")});
  CheckOutcome out = bogus.Outcome("passed_decision");
  EXPECT_EQ(out.verdict, CheckVerdict::kFail);
  EXPECT_THAT(out.reasons, ElementsAre("decision_unknown:梅园绿〔2024〕99号"));

  Call twice = LinkedClaim("X-1", "150000.00",
                           {DecisionFact(7, "X-1", "passed", "large_funds"),
                            DecisionFact(9, "X-1", "passed", "large_funds")});
  EXPECT_THAT(twice.Outcome("passed_decision").reasons,
              ElementsAre("decision_ambiguous:X-1"));
}

TEST(PassedDecisionTest, RefusesDecisionsThatDidNotPassOrDoNotCoverTheRequest) {
  for (const char* result : {"failed", "deferred"}) {
    Call c =
        LinkedClaim("X-2", "150000.00", {DecisionFact(7, "X-2", result, "large_funds")});
    CheckOutcome out = c.Outcome("passed_decision");
    EXPECT_EQ(out.verdict, CheckVerdict::kFail);
    EXPECT_THAT(out.reasons,
                ElementsAre("decision_not_passed:X-2:" + std::string(result)));
  }
  // A personnel decision does not authorise spending.
  Call personnel =
      LinkedClaim("X-3", "150000.00", {DecisionFact(7, "X-3", "passed", "personnel")});
  EXPECT_THAT(personnel.Outcome("passed_decision").reasons,
              ElementsAre("decision_wrong_category:X-3:personnel"));
  // Without params.categories any category is accepted.
  personnel.params.erase("categories");
  EXPECT_EQ(personnel.Outcome("passed_decision").verdict, CheckVerdict::kPass);

  // The amount authorised is a ceiling, inclusive.
  Call at = LinkedClaim("X-4", "600000.00",
                        {DecisionFact(7, "X-4", "passed", "major_project", "600000.00")});
  EXPECT_EQ(at.Outcome("passed_decision").verdict, CheckVerdict::kPass);
  at.form["amount"] = Yuan("600000.01");
  EXPECT_THAT(at.Outcome("passed_decision").reasons,
              ElementsAre("decision_amount_exceeded:X-4"));
  // A decision without an amount limits nothing.
  Call open = LinkedClaim("X-5", "9000000.00",
                          {DecisionFact(7, "X-5", "passed", "major_project")});
  EXPECT_EQ(open.Outcome("passed_decision").verdict, CheckVerdict::kPass);
}

TEST(PassedDecisionTest, MalformedFactsAndParamsAreErrors) {
  Call c = LinkedClaim("X-6", "1.00", {Value::Str("not a record")});
  auto out = c.Run("passed_decision");
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().reason, "bad_facts");
  Value::Record no_result;
  no_result["instance"] = Value::Int(1);
  no_result["number"] = Value::Str("X-6");
  no_result["category"] = Value::Str("large_funds");
  c.facts.values[kFactDecisions] = Value::Of(Value::List{Value::Of(no_result)});
  out = c.Run("passed_decision");
  ASSERT_FALSE(out.has_value());
  EXPECT_THAT(out.error().message, HasSubstr("'result'"));
  Call bad =
      LinkedClaim("X-7", "1.00", {DecisionFact(1, "X-7", "passed", "large_funds")});
  bad.params["categories"] = Value::Str("large_funds");
  out = bad.Run("passed_decision");
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().reason, "bad_params");
}

TEST(DecisionRegisterTest, RegistersAFreeNumberAndRefusesATakenOne) {
  Call c;
  c.form["decision_no"] = Value::Str("梅园绿〔2024〕5号");
  c.form["category"] = Value::Str("large_funds");
  c.form["amount"] = Yuan("1200000.00");
  c.form["topic"] = Value::Str("时花种植");
  CheckOutcome out = c.Outcome("decision_register");
  EXPECT_EQ(out.verdict, CheckVerdict::kPass);
  EXPECT_EQ(Str(out.details, "number"), "梅园绿〔2024〕5号");
  EXPECT_EQ(Str(out.details, "category"), "large_funds");
  EXPECT_EQ(*Get(out.details, "amount"), Yuan("1200000.00"));
  EXPECT_EQ(Str(out.details, "topic"), "时花种植");

  c.facts.values[kFactDecisions] = Value::Of(
      Value::List{DecisionFact(4, "梅园绿〔2024〕5号", "passed", "major_project")});
  out = c.Outcome("decision_register");
  EXPECT_EQ(out.verdict, CheckVerdict::kFail);
  EXPECT_THAT(out.reasons, ElementsAre("decision_no_taken:梅园绿〔2024〕5号:4"));

  c.form.erase("decision_no");
  EXPECT_THAT(c.Outcome("decision_register").reasons, ElementsAre("decision_no_missing"));
}

// ---------------------------------------------------------------------------
// required_by_category

TEST(RequiredByCategoryTest, EachCategoryNeedsItsOwnFields) {
  Call c;
  Value::Record required;
  required["meeting"] = Value::Of(Value::List{Value::Str("notice"), Value::Str("sign_in")});
  required["travel"] = Value::Str("travel_approval");  // one name, no list
  c.params["required"] = Value::Of(required);
  c.form["category"] = Value::Str("meeting");
  c.form["notice"] = Value::Str("sha256:" + std::string(64, 'a'));
  c.form["sign_in"] = Value::Str("");  // empty counts as not given
  CheckOutcome out = c.Outcome("required_by_category");
  EXPECT_EQ(out.verdict, CheckVerdict::kFail);
  EXPECT_THAT(out.reasons, ElementsAre("required_missing:meeting:sign_in"));
  EXPECT_EQ(Str(out.details, "category"), "meeting");

  c.form["sign_in"] = Value::Str("sha256:" + std::string(64, 'b'));
  EXPECT_EQ(c.Outcome("required_by_category").verdict, CheckVerdict::kPass);

  c.form["category"] = Value::Str("travel");
  EXPECT_THAT(c.Outcome("required_by_category").reasons,
              ElementsAre("required_missing:travel:travel_approval"));
  c.form["travel_approval"] = Value::Null();
  EXPECT_THAT(c.Outcome("required_by_category").reasons,
              ElementsAre("required_missing:travel:travel_approval"));

  c.form["category"] = Value::Str("office");  // not in the mapping: nothing needed
  EXPECT_EQ(c.Outcome("required_by_category").verdict, CheckVerdict::kPass);

  c.form.erase("category");
  EXPECT_THAT(c.Outcome("required_by_category").reasons,
              ElementsAre("fields_missing:category"));
}

TEST(RequiredByCategoryTest, AMalformedMappingIsAnError) {
  Call c;
  c.form["category"] = Value::Str("meeting");
  auto none = c.Run("required_by_category");
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().reason, "bad_params");
  Value::Record required;
  required["meeting"] = Value::Of(Value::List{Value::Int(3)});
  c.params["required"] = Value::Of(required);
  auto bad = c.Run("required_by_category");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().reason, "bad_params");
}

// ---------------------------------------------------------------------------
// The loader: shape, values and errors with their positions.

TEST(UnitConfigTest, LoadsTheRecordTheChecksRead) {
  const Value::Record& config = TestConfig();
  EXPECT_EQ(Str(config, "unit.jurisdiction"), "testland");
  EXPECT_EQ(Str(config, "unit.budget_level"), "city");
  EXPECT_EQ(Str(config, "purchasing_department"), "office");
  EXPECT_EQ(Str(config, "default_fund_source"), "fiscal");
  const Value::List& large = rec::List(config, "large_amount");
  ASSERT_EQ(large.size(), 3u);
  EXPECT_EQ(*rec::Find(large[0].as_record(), "threshold"), Yuan("100000.00"));
  EXPECT_EQ(*rec::Find(large[0].as_record(), "from"), Day("2020-01-01"));
  const Value::List& meeting =
      rec::List(rec::Sub(config, "expense_standards"), "meeting");
  ASSERT_EQ(meeting.size(), 1u);
  EXPECT_EQ(*Get(meeting[0].as_record(), "per_person_day_by_class.class2"),
            Yuan("650.00"));
  const Value::List& reception =
      rec::List(rec::Sub(config, "expense_standards"), "reception");
  EXPECT_EQ(*Get(reception[0].as_record(), "companions.ratio_den"), Value::Int(3));
  EXPECT_EQ(*Get(config, "procurement.supplier_repeat.count"), Value::Int(3));
  EXPECT_EQ(*Get(config, "self_check.sample_size"), Value::Int(5));
  const Value::List& cats = rec::List(config, "procurement_catalogues");
  ASSERT_EQ(cats.size(), 4u);
  EXPECT_EQ(rec::Str(cats[0].as_record(), "id"), "testland-2020");
  EXPECT_EQ(*Get(cats[0].as_record(), "superseded_on"), Day("2024-01-01"));
  EXPECT_EQ(*Get(cats[0].as_record(), "open_tender.works.amount"), Yuan("4000000.00"));
  EXPECT_EQ(Str(cats[0].as_record(), "open_tender.works.confidence"), "U");
  // codes_confidence defaults to the catalogue's confidence.
  EXPECT_EQ(rec::Str(cats[0].as_record(), "codes_confidence"), "V");
}

TEST(UnitConfigTest, ProcurementSettingsHaveDocumentedDefaults) {
  std::string unit = Replace(
      kUnit,
      "procurement:\n"
      "  collective_decision: { methods: [open_tender], large_amount: true }\n"
      "  split_purchase: { category_prefix: 0, excluded_methods: [open_tender] }\n"
      "  supplier_repeat: { count: 3, days: 30 }\n",
      "");
  Value::Record config = LoadOrDie(unit);
  EXPECT_EQ(*Get(config, "procurement.collective_decision.methods"),
            rec::StrList({"open_tender"}));
  EXPECT_EQ(*Get(config, "procurement.collective_decision.large_amount"),
            Value::Bool(true));
  EXPECT_EQ(*Get(config, "procurement.split_purchase.category_prefix"), Value::Int(0));
  EXPECT_EQ(Get(config, "procurement.supplier_repeat"), nullptr);
}

TEST(UnitConfigTest, WithoutCatalogueTheProcurementChecksRefuse) {
  UnitConfigLoad load = LoadUnitConfig(kUnit, "unit.yaml", "", "catalogue.yaml");
  ASSERT_THAT(ErrorLines(load.errors), ElementsAre());
  EXPECT_EQ(rec::Find(*load.config, "procurement_catalogues"), nullptr);
  Call c = Purchase("A020301", "goods", "1.00");
  c.config = *load.config;
  auto out = c.Run("procurement_method");
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().reason, "no_catalogue_in_force");
}

std::vector<std::string> UnitErrors(const std::string& unit,
                                    const std::string& catalogue = kCatalogue) {
  return ErrorLines(
      LoadUnitConfig(unit, "unit.yaml", catalogue, "catalogue.yaml", &testing::SeedOrg())
          .errors);
}

TEST(UnitConfigTest, MoneyMustBeYuanWithTwoDecimals) {
  EXPECT_THAT(UnitErrors(Replace(kUnit, "threshold: \"30000.00\"", "threshold: \"3万\"")),
              ElementsAre("unit.yaml:7:56: 'threshold' in large_amount entry 3 is not "
                          "an amount in yuan: '3万' — write digits with at most two "
                          "decimals, quoted, e.g. threshold: \"100000.00\""));
  EXPECT_THAT(UnitErrors(Replace(kUnit, "limit: \"2000.00\"", "limit: \"20.001\"")),
              ElementsAre(HasSubstr("unit.yaml:15:34: 'limit' in expense standard "
                                    "'office' entry 1 is not an amount in yuan")));
  EXPECT_THAT(UnitErrors(Replace(kUnit, "threshold: \"30000.00\"", "threshold: \"0\"")),
              ElementsAre(HasSubstr("unit.yaml:7:56: 'threshold' in large_amount entry "
                                    "3 must be more than zero")));
}

TEST(UnitConfigTest, UnknownKeysAndBadTagsArePlaced) {
  EXPECT_THAT(
      UnitErrors(Replace(kUnit, "purchasing_department:", "purchasing_departmnt:")),
      ElementsAre("unit.yaml:2:1: unknown key 'purchasing_departmnt' in the "
                  "unit configuration — did you mean 'purchasing_department'?"));
  EXPECT_THAT(UnitErrors(Replace(kUnit, "confidence: U, source: \"union\"",
                                 "confidence: X, source: \"union\"")),
              ElementsAre(HasSubstr("unit.yaml:7:80: 'confidence' in large_amount "
                                    "entry 3 is 'X' — use V")));
  EXPECT_THAT(UnitErrors(Replace(kUnit, "budget_level: city }", "budget_level: town }")),
              ElementsAre(HasSubstr("unit.yaml:1:59: 'budget_level' in unit is 'town'")));
}

TEST(UnitConfigTest, AmbiguousDatesAndMissingDefaultAreRefused) {
  EXPECT_THAT(UnitErrors(Replace(kUnit, "from: 2025-01-01, threshold: \"150000.00\"",
                                 "from: 2020-01-01, threshold: \"150000.00\"")),
              ElementsAre(HasSubstr("unit.yaml:6:34: a second large_amount entry for "
                                    "fiscal from 2020-01-01 (first at line 5)")));
  EXPECT_THAT(UnitErrors(Replace(kUnit, "default_fund_source: fiscal",
                                 "default_fund_source: own")),
              ElementsAre(HasSubstr("unit.yaml:3:22: default_fund_source 'own' has no "
                                    "large_amount entry")));
}

TEST(UnitConfigTest, StandardWithoutMeasureIsRefused) {
  EXPECT_THAT(UnitErrors(Replace(kUnit, "per_person_day: \"180.00\", ", "")),
              ElementsAre(HasSubstr("unit.yaml:18:7: expense standard 'travel' entry 1 "
                                    "sets no standard")));
  EXPECT_THAT(UnitErrors(Replace(kUnit, "ratio: \"1/3\"", "ratio: \"3/1\"")),
              ElementsAre(HasSubstr("unit.yaml:22:59: 'ratio' in companions of expense "
                                    "standard 'reception' entry 1 is '3/1'")));
}

TEST(UnitConfigTest, DepartmentsAreCheckedAgainstTheOrganisation) {
  EXPECT_THAT(UnitErrors(Replace(kUnit, "purchasing_department: office",
                                 "purchasing_department: finance")),
              ElementsAre(HasSubstr("unit.yaml:2:24: purchasing_department 'finance' "
                                    "differs from the purchasing department of the "
                                    "organisation ('office'")));
  EXPECT_THAT(UnitErrors(Replace(kUnit, "reviewer_department: finance",
                                 "reviewer_department: finanse")),
              ElementsAre("unit.yaml:29:74: reviewer_department 'finanse' is not a "
                          "department of the organisation — did you mean 'finance'?"));
}

TEST(UnitConfigTest, JurisdictionNeedsACatalogue) {
  EXPECT_THAT(
      UnitErrors(Replace(kUnit, "jurisdiction: testland", "jurisdiction: guangdong")),
      ElementsAre("unit.yaml:1:35: no procurement catalogue for jurisdiction "
                  "'guangdong' — add one to the catalogue file or use one of: "
                  "otherland, testland"));
  EXPECT_THAT(UnitErrors(Replace(kUnit, "budget_level: city", "budget_level: central")),
              ElementsAre(HasSubstr("unit.yaml:1:35: no procurement catalogue for "
                                    "jurisdiction 'testland' covers budget level "
                                    "'central'")));
}

TEST(UnitConfigTest, DuplicateStandardDatesAndBadSettingsAreRefused) {
  EXPECT_THAT(UnitErrors(Replace(kUnit, "from: 2024-01-01, limit: \"3000.00\"",
                                 "from: 2020-01-01, limit: \"3000.00\"")),
              ElementsAre(HasSubstr("unit.yaml:16:15: a second entry of expense "
                                    "standard 'office' from 2020-01-01 (first at line "
                                    "15)")));
  EXPECT_THAT(UnitErrors(Replace(kUnit, "methods: [open_tender]", "methods: [tender]")),
              ElementsAre(HasSubstr("unit.yaml:26:36: 'tender' in 'methods' of "
                                    "procurement.collective_decision is not known")));
  EXPECT_THAT(UnitErrors(Replace(kUnit, "count: 3, days: 30", "count: 1, days: 30")),
              ElementsAre(HasSubstr("unit.yaml:28:29: 'count' in "
                                    "procurement.supplier_repeat is 1, out of "
                                    "range")));
  EXPECT_THAT(UnitErrors(Replace(kUnit, "sample_size: 5, ", "")),
              ElementsAre(HasSubstr("unit.yaml:29:13: missing required key "
                                    "'sample_size' in self_check")));
}

std::vector<std::string> CatalogueErrors(const std::string& catalogue) {
  return ErrorLines(LoadProcurementCatalogues(catalogue, "catalogue.yaml").errors);
}

TEST(ProcurementCatalogueTest, ThresholdsMustBeOrdered) {
  EXPECT_THAT(CatalogueErrors(Replace(
                  kCatalogue, "goods:    { amount: \"1000000.00\", confidence: V }",
                  "goods:    { amount: \"2000000.00\", confidence: V }")),
              ElementsAre(HasSubstr("catalogue.yaml:11:7: the decentralised threshold "
                                    "for goods in catalogue 'testland-2020' "
                                    "(2000000.00) is not below its open-tender "
                                    "threshold (2000000.00)")));
}

TEST(ProcurementCatalogueTest, ItemCodesMatchTheirObjectType) {
  EXPECT_THAT(CatalogueErrors(Replace(kCatalogue, "name: 台式计算机, object_type: goods",
                                      "name: 台式计算机, object_type: works")),
              ElementsAre(HasSubstr("catalogue.yaml:19:54: item A02010104 of catalogue "
                                    "'testland-2020' is a goods code (its letter) but "
                                    "object_type says works")));
  EXPECT_THAT(CatalogueErrors(Replace(kCatalogue, "code: A02010104", "code: PC-1")),
              ElementsAre(HasSubstr("catalogue.yaml:19:17: item code 'PC-1' in "
                                    "catalogue 'testland-2020' is not a 品目分类目录 "
                                    "code")));
}

TEST(ProcurementCatalogueTest, IdsAndStartDatesMustBeUnambiguous) {
  EXPECT_THAT(
      CatalogueErrors(Replace(kCatalogue, "id: otherland-2020", "id: testland-2020")),
      ElementsAre(HasSubstr("catalogue.yaml:47:9: duplicate catalogue id "
                            "'testland-2020' (first at line 2)")));
  EXPECT_THAT(CatalogueErrors(Replace(kCatalogue, "budget_levels: [provincial]",
                                      "budget_levels: [provincial, county]")),
              ElementsAre(HasSubstr("catalogue.yaml:41:21: catalogue "
                                    "'testland-provincial' and catalogue "
                                    "'testland-2020' (line 6) both start on "
                                    "2020-01-01 for testland / county")));
  EXPECT_THAT(CatalogueErrors(Replace(kCatalogue, "superseded_on: 2024-01-01",
                                      "superseded_on: 2019-01-01")),
              ElementsAre(HasSubstr("catalogue.yaml:7:20: 'superseded_on' of catalogue "
                                    "'testland-2020' (2019-01-01) is not after "
                                    "effective_from")));
}

TEST(ProcurementCatalogueTest, ItemsAndLevelsAreChecked) {
  EXPECT_THAT(CatalogueErrors(Replace(kCatalogue, "code: A020102,", "code: A02010104,")),
              ElementsAre(HasSubstr("catalogue.yaml:20:17: item A02010104 is listed "
                                    "twice in catalogue 'testland-2020' (first at line "
                                    "19)")));
  EXPECT_THAT(CatalogueErrors(Replace(kCatalogue, "budget_levels: [provincial]",
                                      "budget_levels: []")),
              ElementsAre(HasSubstr("catalogue.yaml:40:20: 'budget_levels' of "
                                    "catalogue 'testland-provincial' is empty")));
  EXPECT_THAT(CatalogueErrors(Replace(kCatalogue, "budget_levels: [provincial]",
                                      "budget_levels: [province]")),
              ElementsAre(HasSubstr("catalogue.yaml:40:21: 'province' in "
                                    "'budget_levels' of catalogue "
                                    "'testland-provincial' is not known")));
  EXPECT_THAT(
      CatalogueErrors(Replace(
          kCatalogue,
          "    open_tender: { goods: { amount: \"100000.00\", confidence: U } }\n", "")),
      ElementsAre(HasSubstr("catalogue.yaml:47:5: missing required key "
                            "'open_tender' in catalogue 'otherland-2020'")));
}

TEST(ProcurementCatalogueTest, MalformedYamlIsPlaced) {
  EXPECT_THAT(CatalogueErrors("catalogues:\n  - id: [x\n"),
              ElementsAre(HasSubstr("catalogue.yaml:3:1: malformed YAML")));
  // Errors of both files come back together, the unit file's first.
  std::vector<std::string> both =
      UnitErrors(Replace(kUnit, "purchasing_department:", "purchasing_departmnt:"),
                 "catalogues: {}\n");
  ASSERT_EQ(both.size(), 2u);
  EXPECT_THAT(both[0], HasSubstr("unit.yaml:2:1:"));
  EXPECT_THAT(both[1], HasSubstr("catalogue.yaml:1:13: 'catalogues' in the "
                                 "catalogue file must be a list"));
}

// ---------------------------------------------------------------------------
// Holidays.

const char* const kHolidays = R"yaml(years:
  - year: 2025
    source: "国办发明电〔2024〕12号"
    confidence: S
    holidays:
      - { name: 国庆节、中秋节, from: 2025-10-01, to: 2025-10-08 }
    workdays: [2025-09-28, 2025-10-11]
)yaml";

std::vector<std::string> HolidayErrors(const std::string& text) {
  return ErrorLines(LoadHolidayCalendar(text, "holidays.yaml").errors);
}

TEST(HolidayCalendarTest, LoadsHolidaysAndSwappedWorkdays) {
  CalendarLoad load = LoadHolidayCalendar(kHolidays, "holidays.yaml");
  ASSERT_THAT(ErrorLines(load.errors), ElementsAre());
  EXPECT_THAT(load.years, ElementsAre(2025));
  const Calendar& cal = *load.calendar;
  EXPECT_FALSE(cal.IsWorkingDay(*ParseDate("2025-10-08")));  // Wednesday
  EXPECT_TRUE(cal.IsWorkingDay(*ParseDate("2025-10-09")));
  EXPECT_TRUE(cal.IsWorkingDay(*ParseDate("2025-09-28")));   // Sunday, 调休
  EXPECT_FALSE(cal.IsWorkingDay(*ParseDate("2025-09-27")));  // Saturday
  EXPECT_EQ(FormatDate(cal.AddWorkingDays(*ParseDate("2025-09-30"), 1)), "2025-10-09");
}

TEST(HolidayCalendarTest, RefusesImpossibleDays) {
  EXPECT_THAT(HolidayErrors(Replace(kHolidays, "2025-10-11]", "2025-10-10]")),
              ElementsAre("holidays.yaml:7:28: 2025-10-10 in the workdays of year 2025 "
                          "is a weekday — list only the Saturdays and Sundays that are "
                          "worked (调休)"));
  EXPECT_THAT(HolidayErrors(Replace(kHolidays, "[2025-09-28,", "[2024-09-28,")),
              ElementsAre(HasSubstr("holidays.yaml:7:16: 2024-09-28 in workdays of "
                                    "year 2025 is not in 2025")));
  EXPECT_THAT(HolidayErrors(Replace(kHolidays, "2025-10-11]", "2025-10-04]")),
              ElementsAre(HasSubstr("holidays.yaml:7:28: 2025-10-04 in the workdays of "
                                    "year 2025 falls inside a holiday")));
  EXPECT_THAT(HolidayErrors(Replace(kHolidays, "to: 2025-10-08", "to: 2025-09-08")),
              ElementsAre(HasSubstr("holidays.yaml:6:48: 'to' of holiday 国庆节、中秋节 "
                                    "of year 2025 (2025-09-08) is before 'from'")));
  EXPECT_THAT(
      HolidayErrors(Replace(
          kHolidays, "to: 2025-10-08 }",
          "to: 2025-10-08 }\n      - { name: x, from: 2025-10-08, to: 2025-10-09 }")),
      ElementsAre(HasSubstr("holidays.yaml:7:26: holiday x of year 2025 "
                            "overlaps another holiday")));
  EXPECT_THAT(HolidayErrors(Replace(kHolidays, "from: 2025-10-01", "from: 2025-09-01")),
              ElementsAre(HasSubstr("holidays.yaml:6:48: holiday 国庆节、中秋节 of year "
                                    "2025 lasts 38 days")));
  EXPECT_THAT(HolidayErrors(Replace(kHolidays, "2025-10-11]", "2025-09-28]")),
              ElementsAre(HasSubstr("holidays.yaml:7:28: 2025-09-28 is listed twice")));
  EXPECT_THAT(HolidayErrors(std::string(kHolidays) +
                            "  - { year: 2025, source: x, confidence: S }\n"),
              ElementsAre(HasSubstr("holidays.yaml:8:13: year 2025 is listed twice")));
  EXPECT_THAT(HolidayErrors(Replace(kHolidays, "confidence: S", "confidence: maybe")),
              ElementsAre(HasSubstr("holidays.yaml:4:17: 'confidence' in year "
                                    "2025 is 'maybe'")));
}

// ---------------------------------------------------------------------------
// The shipped files.

TEST(ShippedConfigTest, UnitAndCatalogueLoadAgainstTheSeedOrganisation) {
  UnitConfigLoad load =
      LoadUnitConfig(ReadTextFile(SourceDir() / "config/unit.yaml"), "config/unit.yaml",
                     ReadTextFile(SourceDir() / "config/procurement-catalogue.yaml"),
                     "config/procurement-catalogue.yaml", &testing::SeedOrg());
  ASSERT_THAT(ErrorLines(load.errors), ElementsAre());
  const Value::Record& config = *load.config;
  EXPECT_EQ(Str(config, "unit.jurisdiction"), "guangdong");
  EXPECT_EQ(Str(config, "purchasing_department"), "office");
  EXPECT_EQ(*Get(config, "self_check.sample_size"), Value::Int(10));

  // The central 2020 figures are the verified ones of RULES.md §2.3.
  const Value::Record* central = nullptr;
  for (const Value& v : rec::List(config, "procurement_catalogues"))
    if (rec::Str(v.as_record(), "id") == "central-2020") central = &v.as_record();
  ASSERT_NE(central, nullptr);
  EXPECT_EQ(rec::Str(*central, "confidence"), "V");
  EXPECT_EQ(*Get(*central, "decentralised.goods.amount"), Yuan("1000000.00"));
  EXPECT_EQ(*Get(*central, "decentralised.services.amount"), Yuan("1000000.00"));
  EXPECT_EQ(*Get(*central, "decentralised.works.amount"), Yuan("1200000.00"));
  EXPECT_EQ(*Get(*central, "open_tender.goods.amount"), Yuan("2000000.00"));
  EXPECT_EQ(Str(*central, "open_tender.goods.confidence"), "V");

  // The unit's own (Guangdong) catalogue decides, and every event says its
  // figures are unverified.
  Call c = Purchase("A020301", "goods", "350000.00");
  c.config = config;
  c.now = At("2025-06-02T10:00:00+08:00");
  CheckOutcome out = c.Outcome("procurement_method");
  EXPECT_EQ(Str(out.details, "catalogue.id"), "guangdong-2020-city-county");
  EXPECT_EQ(Str(out.details, "catalogue.confidence"), "U");
  EXPECT_EQ(Str(out.details, "thresholds.decentralised_confidence"), "U");
  EXPECT_EQ(Str(out.details, "method"), "decentralised");
  EXPECT_EQ(out.verdict, CheckVerdict::kFlag);  // over 10万 (fiscal)
  EXPECT_THAT(out.reasons, ElementsAre("collective_decision_required:large_amount"));
}

TEST(ShippedConfigTest, NoUnverifiedCatalogueClaimsToBeVerified) {
  CatalogueLoad load = LoadProcurementCatalogues(
      ReadTextFile(SourceDir() / "config/procurement-catalogue.yaml"),
      "config/procurement-catalogue.yaml");
  ASSERT_THAT(ErrorLines(load.errors), ElementsAre());
  for (const Value& v : *load.catalogues) {
    const Value::Record& cat = v.as_record();
    if (rec::Str(cat, "jurisdiction") != "guangdong") continue;
    EXPECT_EQ(rec::Str(cat, "confidence"), "U") << rec::Str(cat, "id");
    for (const char* kind : {"decentralised", "open_tender"})
      for (const auto& [type, t] : rec::Sub(cat, kind))
        EXPECT_EQ(rec::Str(t.as_record(), "confidence"), "U")
            << rec::Str(cat, "id") << " " << kind << " " << type;
    for (const Value& item : rec::List(cat, "centralised"))
      EXPECT_EQ(rec::Str(item.as_record(), "confidence"), "U");
  }
}

TEST(ShippedConfigTest, HolidaysLoadForEveryYear) {
  CalendarLoad load = LoadHolidayCalendar(
      ReadTextFile(SourceDir() / "config/holidays.yaml"), "config/holidays.yaml");
  ASSERT_THAT(ErrorLines(load.errors), ElementsAre());
  EXPECT_THAT(load.years, ElementsAre(2024, 2025, 2026));
  const Calendar& cal = *load.calendar;
  EXPECT_FALSE(cal.IsWorkingDay(*ParseDate("2024-02-16")));  // 春节, Friday
  EXPECT_TRUE(cal.IsWorkingDay(*ParseDate("2024-02-18")));   // Sunday, 调休
  EXPECT_FALSE(cal.IsWorkingDay(*ParseDate("2025-01-28")));  // 除夕 2025
  EXPECT_TRUE(cal.IsWorkingDay(*ParseDate("2025-02-08")));   // Saturday, 调休
  EXPECT_FALSE(cal.IsWorkingDay(*ParseDate("2026-02-23")));  // Monday, 春节
  EXPECT_TRUE(cal.IsWorkingDay(*ParseDate("2026-02-28")));   // Saturday, 调休
  EXPECT_TRUE(cal.IsWorkingDay(*ParseDate("2026-03-02")));
  // A 2-working-day deliberation period started before National Day 2025.
  EXPECT_EQ(FormatDate(cal.AddWorkingDays(*ParseDate("2025-09-29"), 2)), "2025-10-09");
}

}  // namespace
}  // namespace approvald

// CopyOnWrite (approvald/copy_on_write.h): copies share one value until one
// of them changes it, and a change never shows through another copy.
#include "approvald/copy_on_write.h"

#include <gtest/gtest.h>

#include <string>

#include "approvald/value.h"

namespace approvald {
namespace {

FormData Form() {
  FormData f;
  f["purpose"] = Value::Str("差旅");
  f["amount"] = Value::Of(Money{12345});
  return f;
}

TEST(CopyOnWriteTest, ADefaultOneReadsAsEmptyAndHoldsNothing) {
  CopyOnWrite<FormData> form;
  EXPECT_FALSE(form.holds());
  EXPECT_TRUE(form.empty());
  EXPECT_EQ(form.size(), 0u);
  EXPECT_EQ(form.find("purpose"), form.end());
  EXPECT_EQ(form, CopyOnWrite<FormData>(FormData{}));
}

TEST(CopyOnWriteTest, ACopySharesTheValue) {
  CopyOnWrite<FormData> a = Form();
  CopyOnWrite<FormData> b = a;
  EXPECT_TRUE(b.SharesWith(a));
  EXPECT_EQ(&b.get(), &a.get());
  EXPECT_EQ(b.at("purpose").as_string(), "差旅");
}

TEST(CopyOnWriteTest, AChangeToOneCopyLeavesTheOtherAsItWas) {
  CopyOnWrite<FormData> a = Form();
  CopyOnWrite<FormData> b = a;
  b.Mutable()["voucher_no"] = Value::Str("记-1");
  b.Mutable()["amount"] = Value::Of(Money{1});
  EXPECT_FALSE(b.SharesWith(a));
  EXPECT_EQ(a.get(), Form());
  EXPECT_EQ(a.count("voucher_no"), 0u);
  EXPECT_EQ(b.at("voucher_no").as_string(), "记-1");
  EXPECT_EQ(b.at("amount").as_money().fen, 1);
  EXPECT_FALSE(a == b);
}

TEST(CopyOnWriteTest, AssigningAValueToOneCopyLeavesTheOtherAsItWas) {
  CopyOnWrite<FormData> a = Form();
  CopyOnWrite<FormData> b = a;
  b = FormData{};
  EXPECT_EQ(a.get(), Form());
  EXPECT_TRUE(b.empty());
}

TEST(CopyOnWriteTest, AValueNobodySharesIsChangedInPlace) {
  CopyOnWrite<FormData> a = Form();
  const FormData* before = &a.get();
  a.Mutable()["voucher_no"] = Value::Str("记-1");
  EXPECT_EQ(&a.get(), before);
  {
    CopyOnWrite<FormData> gone = a;  // shared, then no longer
  }
  a.Mutable()["purpose"] = Value::Str("会议");
  EXPECT_EQ(&a.get(), before);
  EXPECT_EQ(a.at("purpose").as_string(), "会议");
}

TEST(CopyOnWriteTest, EqualValuesCompareEqualWhetherOrNotShared) {
  CopyOnWrite<FormData> a = Form();
  CopyOnWrite<FormData> b = Form();
  EXPECT_FALSE(b.SharesWith(a));
  EXPECT_EQ(a, b);
  CopyOnWrite<FormData> c = a;
  EXPECT_EQ(a, c);
  // Changed back to what it was: equal again, though no longer shared.
  c.Mutable()["purpose"] = Value::Str("会议");
  EXPECT_NE(a, c);
  c.Mutable()["purpose"] = Value::Str("差旅");
  EXPECT_EQ(a, c);
}

}  // namespace
}  // namespace approvald

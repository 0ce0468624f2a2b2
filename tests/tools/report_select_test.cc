// --select: each operator on a workload of the document's shape, globs and regexes matched whole,
// absent labels as empty values (as Prometheus has them), and bad expressions named.

#include "tools/report_select.h"

#include <gtest/gtest.h>

namespace we {
namespace {

namespace bj = json::bj;

const bj::value kWorkload = bj::object{{"kind", "container"},
                                       {"runtime", "docker"},
                                       {"id", "12754dcb42af"},
                                       {"name", "flask-ctr"},
                                       {"labels", bj::object{{"label_app", "flask"}, {"image", "flask:3"}}}};

bool Holds(const std::string& expression) {
  std::string error;
  auto s = ParseSelector(expression, &error);
  EXPECT_TRUE(s) << error;
  return s && Selected({*s}, kWorkload);
}

TEST(ParseSelector, EachOperator) {
  std::string error;
  struct Case {
    const char* text;
    const char* key;
    Selector::Op op;
    const char* value;
    bool glob;
  } cases[] = {
      {"name=web", "name", Selector::Op::kEqual, "web", false},
      {"name=web*", "name", Selector::Op::kEqual, "web*", true},
      {"name!=web", "name", Selector::Op::kNotEqual, "web", false},
      {"name=~fl.*", "name", Selector::Op::kMatch, "fl.*", false},
      {"name!~fl.*", "name", Selector::Op::kNotMatch, "fl.*", false},
      {"label_x=a=b!~c", "label_x", Selector::Op::kEqual, "a=b!~c", false},  // the first operator counts
      {"label_app=", "label_app", Selector::Op::kEqual, "", false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    auto s = ParseSelector(c.text, &error);
    ASSERT_TRUE(s) << error;
    EXPECT_EQ(s->text, c.text);
    EXPECT_EQ(s->key, c.key);
    EXPECT_EQ(s->op, c.op);
    EXPECT_EQ(s->value, c.value);
    EXPECT_EQ(s->glob, c.glob);
  }
}

TEST(ParseSelector, BadExpressionsNameTheArgument) {
  const std::pair<const char*, const char*> cases[] = {
      {"name", "--select \"name\": expected key=value, key!=value, key=~regex or key!~regex"},
      {"=web", "--select \"=web\": no key before the operator"},
      {"name!web", "--select \"name!web\": '!' must be followed by '=' or '~'"},
      {"na me=web", "--select \"na me=web\": a key is a label name ([A-Za-z0-9_]+), got \"na me\""},
  };
  for (const auto& [text, message] : cases) {
    std::string error;
    EXPECT_FALSE(ParseSelector(text, &error));
    EXPECT_EQ(error, message);
  }
  std::string error;
  EXPECT_FALSE(ParseSelector("name=~(", &error));
  EXPECT_EQ(error.rfind("--select \"name=~(\": not a regex: ", 0), 0u) << error;
}

TEST(Selected, ExactGlobAndRegexOnIdentityAndLabels) {
  EXPECT_TRUE(Holds("name=flask-ctr"));
  EXPECT_FALSE(Holds("name=flask"));  // exact, not a prefix
  EXPECT_TRUE(Holds("name=flask*"));
  EXPECT_TRUE(Holds("name=fl?sk-[a-c]tr"));
  EXPECT_FALSE(Holds("name=web*"));
  EXPECT_TRUE(Holds("name!=web"));
  EXPECT_FALSE(Holds("name!=flask*"));
  EXPECT_TRUE(Holds("name=~flask.*"));
  EXPECT_FALSE(Holds("name=~flask"));  // a regex matches the whole value
  EXPECT_TRUE(Holds("name!~flask"));
  EXPECT_FALSE(Holds("name!~.*ctr"));
  EXPECT_TRUE(Holds("kind=container"));
  EXPECT_TRUE(Holds("runtime=~docker|podman"));
  EXPECT_TRUE(Holds("id=12754dcb42af"));
  EXPECT_TRUE(Holds("label_app=flask"));
  EXPECT_TRUE(Holds("image=flask:*"));
  // A label the workload lacks is empty.
  EXPECT_TRUE(Holds("label_team="));
  EXPECT_TRUE(Holds("label_team!=ops"));
  EXPECT_FALSE(Holds("label_team=~.+"));
  EXPECT_FALSE(Holds("label_app="));
}

TEST(Selected, EverySelectorMustHold) {
  std::string error;
  const auto a = ParseSelector("kind=container", &error), b = ParseSelector("label_app=web", &error);
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(Selected({*a}, kWorkload));
  EXPECT_FALSE(Selected({*a, *b}, kWorkload));
  EXPECT_TRUE(Selected({}, kWorkload));
}

TEST(WorkloadLabel, IdentityFromTheTopLabelsFromTheirObject) {
  EXPECT_EQ(WorkloadLabel(kWorkload, "name"), "flask-ctr");
  EXPECT_EQ(WorkloadLabel(kWorkload, "label_app"), "flask");
  EXPECT_EQ(WorkloadLabel(kWorkload, "labels"), "");                     // not a label
  EXPECT_EQ(WorkloadLabel(bj::object{{"name", "x"}}, "label_app"), "");  // a document without labels
}

}  // namespace
}  // namespace we

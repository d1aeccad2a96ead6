#include "arbiter/aws/xml.h"

#include <gtest/gtest.h>

namespace arbiter::aws {
namespace {

TEST(XmlTest, ParsesS3Shapes) {
  auto x = ParseXml(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://doc.s3.amazonaws.com/2006-03-01/\">"
      "<Name>b</Name><!-- c --><Contents><Key>a&amp;b &#x1234;&#65;</Key><ETag>&quot;e&quot;</ETag></Contents>"
      "<Empty/><s3:Pre xmlns:s3=\"x\"><![CDATA[<raw>]]></s3:Pre></ListBucketResult>");
  ASSERT_TRUE(x.ok()) << x.status().ToString();
  EXPECT_EQ(x->name, "ListBucketResult");
  EXPECT_EQ(x->ChildText("Name"), "b");
  EXPECT_EQ(x->Child("Contents")->ChildText("Key"), "a&b \xE1\x88\xB4" "A");
  EXPECT_EQ(x->Child("Contents")->ChildText("ETag"), "\"e\"");
  EXPECT_NE(x->Child("Empty"), nullptr);
  EXPECT_EQ(x->ChildText("Pre"), "<raw>");
  EXPECT_EQ(x->Child("Missing"), nullptr);
}

TEST(XmlTest, RejectsMalformedInput) {
  for (const char* bad : {"", "   ", "text", "<a>", "<a></b>", "<a><b></a>", "<a>&nope;</a>", "<a>&#0;</a>",
                          "<a>&#xD800;</a>", "<a>&#x110000;</a>", "<a x=1></a>", "<a></a><b></b>",
                          "<a><![CDATA[x</a>", "<!-- x", "<a", "<a/", "<a>&#x;</a>", "<a>&amp</a>"}) {
    auto x = ParseXml(bad);
    EXPECT_FALSE(x.ok()) << bad;
  }
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "<a>";
  for (int i = 0; i < 100; ++i) deep += "</a>";
  EXPECT_FALSE(ParseXml(deep).ok());
}

}  // namespace
}  // namespace arbiter::aws

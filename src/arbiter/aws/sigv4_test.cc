// SigV4 against every vector in third_party/sigv4-testsuite (aws-c-auth v4: header and query
// signing; botocore's suite), the S3 documentation examples and presigned URLs.
#include "arbiter/aws/sigv4.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "arbiter/crypto/crypto.h"

namespace arbiter::aws {
namespace {

namespace fs = std::filesystem;
// Vendored (Apache-2.0, unmodified, provenance in its README.md) so a clone anywhere runs them.
const fs::path kSigV4Dir = fs::path(ARBITER_SOURCE_DIR) / "third_party" / "sigv4-testsuite";

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// request.txt / .req: "METHOD target HTTP/1.1", headers (continuation lines start with
// whitespace), blank line, body. The target may contain raw spaces and UTF-8.
SignableRequest ParseRawRequest(const std::string& text) {
  SignableRequest r;
  std::vector<std::string> lines;
  size_t pos = 0;
  while (true) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) {
      lines.push_back(text.substr(pos));
      break;
    }
    std::string line = text.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
    pos = nl + 1;
    if (lines.size() > 1 && line.empty()) {
      r.body = text.substr(pos);
      break;
    }
  }
  const std::string& first = lines.at(0);
  const size_t sp = first.find(' ');
  const size_t proto = first.rfind(" HTTP/");
  r.method = first.substr(0, sp);
  std::string target = first.substr(sp + 1, proto - sp - 1);
  const size_t q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) r.query = target.substr(q + 1);
  for (size_t i = 1; i < lines.size() && !lines[i].empty(); ++i) {
    const std::string& l = lines[i];
    if (l[0] == ' ' || l[0] == '\t') {
      r.headers.back().second += " " + l;
      continue;
    }
    const size_t colon = l.find(':');
    r.headers.emplace_back(l.substr(0, colon), l.substr(colon + 1));
  }
  return r;
}

TimePoint ParseTimestamp(const std::string& iso) {  // 2015-08-30T12:36:00Z
  std::tm tm{};
  strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return TimePoint(std::chrono::seconds(timegm(&tm)));
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

std::vector<std::string> AwsCAuthCases() {
  std::vector<std::string> names;
  const fs::path dir = kSigV4Dir / "aws-c-auth" / "aws-signing-test-suite" / "v4";
  if (!fs::exists(dir)) return names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

class AwsCAuthVectorTest : public ::testing::TestWithParam<std::string> {};

TEST_P(AwsCAuthVectorTest, HeaderAndQuerySigning) {
  const fs::path dir = kSigV4Dir / "aws-c-auth" / "aws-signing-test-suite" / "v4" / GetParam();
  const auto ctx = nlohmann::json::parse(ReadFile(dir / "context.json"));
  Credentials creds;
  creds.access_key_id = ctx["credentials"]["access_key_id"];
  creds.secret_access_key = ctx["credentials"]["secret_access_key"];
  creds.session_token = ctx["credentials"].value("token", "");
  SigningOptions o;
  o.region = ctx["region"];
  o.service = ctx["service"];
  o.time = ParseTimestamp(ctx["timestamp"]);
  o.normalize_path = ctx["normalize"];
  o.encode_path = true;  // the vectors' paths are unencoded: encoding once gives the expectation
  o.add_content_sha256 = ctx["sign_body"];
  o.omit_session_token = ctx.value("omit_session_token", false);
  o.expires = std::chrono::seconds(ctx["expiration_in_seconds"].get<int>());
  const SignableRequest request = ParseRawRequest(ReadFile(dir / "request.txt"));

  auto h = SignWithHeaders(request, creds, o);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->canonical_request, ReadFile(dir / "header-canonical-request.txt"));
  EXPECT_EQ(h->string_to_sign, ReadFile(dir / "header-string-to-sign.txt"));
  EXPECT_EQ(h->signature, Trimmed(ReadFile(dir / "header-signature.txt")));
  // The expected signed request carries the exact Authorization header.
  const std::string signed_request = ReadFile(dir / "header-signed-request.txt");
  EXPECT_NE(signed_request.find("Authorization:" + *http::FindHeader(h->headers, "authorization")),
            std::string::npos);

  SigningOptions qo = o;
  qo.add_content_sha256 = false;  // the body hash is the payload line; no header in query mode
  auto q = SignWithQuery(request, creds, qo);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->canonical_request, ReadFile(dir / "query-canonical-request.txt"));
  EXPECT_EQ(q->string_to_sign, ReadFile(dir / "query-string-to-sign.txt"));
  EXPECT_EQ(q->signature, Trimmed(ReadFile(dir / "query-signature.txt")));
  EXPECT_NE(ReadFile(dir / "query-signed-request.txt").find("X-Amz-Signature=" + q->signature),
            std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(AllVectors, AwsCAuthVectorTest, ::testing::ValuesIn(AwsCAuthCases()),
                         [](const auto& param_info) {
                           std::string n = param_info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

TEST(SigV4VectorsTest, AllVectorFilesArePresent) {
  // Guards against a silently empty parameter list.
  EXPECT_EQ(AwsCAuthCases().size(), 38u) << "vectors not found under " << kSigV4Dir;
}

std::vector<std::string> BotocoreCases() {
  std::vector<std::string> names;
  const fs::path dir = kSigV4Dir / "botocore" / "aws4_testsuite";
  if (!fs::exists(dir)) return names;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.path().extension() == ".req") {
      names.push_back(fs::relative(e.path().parent_path(), dir).string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

class BotocoreVectorTest : public ::testing::TestWithParam<std::string> {};

TEST_P(BotocoreVectorTest, CanonicalRequestAndSignature) {
  const fs::path dir = kSigV4Dir / "botocore" / "aws4_testsuite" / GetParam();
  const std::string name = fs::path(GetParam()).filename();
  Credentials creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", std::nullopt};
  if (name == "get-vanilla-with-session-token") {  // per the suite's README
    creds.session_token = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";
  }
  SigningOptions o;
  o.region = "us-east-1";
  o.service = "service";
  o.time = ParseTimestamp("2015-08-30T12:36:00Z");
  SignableRequest request = ParseRawRequest(ReadFile(dir / (name + ".req")));
  auto h = SignWithHeaders(request, creds, o);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->canonical_request, ReadFile(dir / (name + ".creq")));
  EXPECT_EQ(h->string_to_sign, ReadFile(dir / (name + ".sts")));
  EXPECT_EQ(*http::FindHeader(h->headers, "authorization"), Trimmed(ReadFile(dir / (name + ".authz"))));
}

INSTANTIATE_TEST_SUITE_P(AllVectors, BotocoreVectorTest, ::testing::ValuesIn(BotocoreCases()),
                         [](const auto& param_info) {
                           std::string n = param_info.param;
                           for (char& c : n) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

TEST(SigV4VectorsTest, AllBotocoreFilesArePresent) { EXPECT_EQ(BotocoreCases().size(), 34u); }

TEST(SigV4Test, KeyDerivationCheckValues) {
  EXPECT_EQ(crypto::HexEncode(SigningKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215",
                                         "us-east-1", "iam")),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
  EXPECT_EQ(crypto::HexEncode(SigningKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830",
                                         "us-east-1", "service")),
            "938127b5336810ddb6a5d6af445fcac9e371f9ed418ed386b022aed82901be75");
}

// ---- S3 documentation examples (runtime-apis.md 5.7) ----

const Credentials kS3DocCreds{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                              "", std::nullopt};
const TimePoint kS3DocTime = ParseTimestamp("2013-05-24T00:00:00Z");

std::string AuthorizationOf(http::HttpRequest& r) {
  EXPECT_TRUE(SignHttpRequest(r, kS3DocCreds, S3SigningOptions("us-east-1", kS3DocTime)).ok());
  return http::FindHeader(r.headers, "authorization").value_or("");
}

TEST(SigV4S3Test, GetObjectWithRange) {
  http::HttpRequest r;
  r.url = "https://examplebucket.s3.amazonaws.com/test.txt";
  r.headers = {{"Range", "bytes=0-9"}};
  EXPECT_EQ(AuthorizationOf(r),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(http::FindHeader(r.headers, "x-amz-content-sha256"),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(SigV4S3Test, PutObjectKeepsTheWirePathEncodedOnce) {
  http::HttpRequest r;
  r.method = "PUT";
  r.url = "https://examplebucket.s3.amazonaws.com/" + http::UriEncode("test$file.text", true);
  r.body = "Welcome to Amazon S3.";
  r.headers = {{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
               {"x-amz-storage-class", "REDUCED_REDUNDANCY"}};
  EXPECT_NE(AuthorizationOf(r).find(
                "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, "
                "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"),
            std::string::npos);
}

TEST(SigV4S3Test, GetBucketLifecycleAndList) {
  http::HttpRequest r;
  r.url = "https://examplebucket.s3.amazonaws.com/?lifecycle";
  EXPECT_NE(AuthorizationOf(r).find(
                "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"),
            std::string::npos);
  http::HttpRequest l;
  l.url = "https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J";
  EXPECT_NE(AuthorizationOf(l).find(
                "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"),
            std::string::npos);
  // Query order on the wire does not matter: parameters are sorted before signing.
  http::HttpRequest l2;
  l2.url = "https://examplebucket.s3.amazonaws.com/?prefix=J&max-keys=2";
  EXPECT_EQ(AuthorizationOf(l2), AuthorizationOf(l));
}

TEST(SigV4S3Test, PresignedGet) {
  SigningOptions o = S3SigningOptions("us-east-1", kS3DocTime);
  o.expires = std::chrono::seconds(86400);
  auto url = PresignUrl("GET", "https://examplebucket.s3.amazonaws.com/test.txt", kS3DocCreds, o);
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(*url,
            "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
            "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
  o.expires = std::chrono::seconds(604801);
  EXPECT_FALSE(PresignUrl("GET", "https://b.s3.amazonaws.com/k", kS3DocCreds, o).ok());
}

TEST(SigV4S3Test, NoPathNormalisationForS3) {
  SignableRequest r{"GET", "/my-object//example//./photo.user", "", {{"Host", "b.s3.amazonaws.com"}}, ""};
  auto s3 = SignWithHeaders(r, kS3DocCreds, S3SigningOptions("us-east-1", kS3DocTime));
  ASSERT_TRUE(s3.ok());
  EXPECT_TRUE(s3->canonical_request.starts_with("GET\n/my-object//example//./photo.user\n"));
  SigningOptions generic;
  generic.service = "service";
  generic.time = kS3DocTime;
  auto g = SignWithHeaders(r, kS3DocCreds, generic);
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(g->canonical_request.starts_with("GET\n/my-object/example/photo.user\n"));
}

TEST(SigV4S3Test, UnsignedPayloadAndSessionToken) {
  http::HttpRequest r;
  r.method = "PUT";
  r.url = "http://127.0.0.1:4568/bucket/key";
  r.body = "data";
  SigningOptions o = S3SigningOptions("us-east-1", kS3DocTime);
  o.unsigned_payload = true;
  Credentials creds = kS3DocCreds;
  creds.session_token = "FwoGZXIvYXdzEXAMPLE";
  ASSERT_TRUE(SignHttpRequest(r, creds, o).ok());
  EXPECT_EQ(http::FindHeader(r.headers, "x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
  EXPECT_EQ(http::FindHeader(r.headers, "host"), "127.0.0.1:4568");
  EXPECT_EQ(http::FindHeader(r.headers, "x-amz-security-token"), "FwoGZXIvYXdzEXAMPLE");
  EXPECT_NE(http::FindHeader(r.headers, "authorization")->find(
                "SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token"),
            std::string::npos);
}

TEST(SigV4Test, RejectsMissingInputs) {
  SignableRequest r{"GET", "/", "", {{"Host", "h"}}, ""};
  SigningOptions o;
  o.service = "s3";
  EXPECT_FALSE(SignWithHeaders(r, Credentials{}, o).ok());
  SignableRequest no_host{"GET", "/", "", {}, ""};
  EXPECT_FALSE(SignWithHeaders(no_host, kS3DocCreds, o).ok());
}

}  // namespace
}  // namespace arbiter::aws

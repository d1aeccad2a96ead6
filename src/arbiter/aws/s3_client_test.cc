// The S3 client against a real third-party S3 implementation (s3rver, started per test
// suite), plus bad-input cases through the fake transport.
#include "arbiter/aws/s3_client.h"

#include <gtest/gtest.h>

#include "arbiter/aws/s3rver_fixture.h"
#include "arbiter/http/curl_http_client.h"
#include "arbiter/http/fake_http_client.h"
#include "arbiter/testing/missing_dependency.h"

namespace arbiter::aws {
namespace {

using testing::S3rver;

class S3rverTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    bool installed = false;
    server_ = S3rver::Start(&why_not_, &installed).release();
    installed_ = installed;
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    if (server_ == nullptr) {
      // Skip only when the tool is genuinely absent; a broken start is a failure.
      if (!installed_) ARBITER_MISSING_DEPENDENCY("s3rver unavailable: " << why_not_);
      FAIL() << why_not_;
    }
  }

  S3Client Client(S3Options o = {}) {
    if (o.endpoint.empty()) o.endpoint = server_->endpoint();
    o.path_style = o.path_style || o.endpoint == server_->endpoint();
    return S3Client(&http_, &creds_, &clock_, o);
  }

  static inline S3rver* server_ = nullptr;
  static inline std::string why_not_;
  static inline bool installed_ = false;
  http::CurlHttpClient http_;
  StaticCredentialsProvider creds_{Credentials{S3rver::kAccessKey, S3rver::kSecretKey, "", std::nullopt}};
  SystemClock clock_;
  const std::string bucket_ = S3rver::kBucket;
};

TEST_F(S3rverTest, PutGetHeadDelete) {
  S3Client s3 = Client();
  auto etag = s3.PutObject(bucket_, "basic/hello.txt", "hello, world", {"text/plain", false});
  ASSERT_TRUE(etag.ok()) << etag.status().ToString();
  EXPECT_EQ(*etag, "e4d7f1b4ed2e42d15898f4b27b019da4");  // MD5 of the body
  auto body = s3.GetObject(bucket_, "basic/hello.txt");
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body, "hello, world");
  auto head = s3.HeadObject(bucket_, "basic/hello.txt");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->size, 12u);
  EXPECT_EQ(head->content_type, "text/plain");
  ASSERT_TRUE(s3.DeleteObject(bucket_, "basic/hello.txt").ok());
  auto gone = s3.HeadObject(bucket_, "basic/hello.txt");
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound) << gone.status().ToString();
  EXPECT_TRUE(s3.DeleteObject(bucket_, "basic/hello.txt").ok());  // 204 for a missing key too
}

TEST_F(S3rverTest, RangedGets) {
  S3Client s3 = Client();
  ASSERT_TRUE(s3.PutObject(bucket_, "range/digits", "0123456789").ok());
  EXPECT_EQ(*s3.GetObject(bucket_, "range/digits", ByteRange{2, 5}), "2345");
  EXPECT_EQ(*s3.GetObject(bucket_, "range/digits", ByteRange{7, std::nullopt}), "789");
}

TEST_F(S3rverTest, KeysWithSpecialCharacters) {
  S3Client s3 = Client();
  for (std::string key : {"odd/a b+c$&=,;@.txt", "odd/\xE1\x88\xB4/\xC3\xA9t\xC3\xA9", "odd/x~y*z'(1)!"}) {
    ASSERT_TRUE(s3.PutObject(bucket_, key, key).ok()) << key;
    auto got = s3.GetObject(bucket_, key);
    ASSERT_TRUE(got.ok()) << key << ": " << got.status().ToString();
    EXPECT_EQ(*got, key);
  }
  auto all = s3.ListAll(bucket_, "odd/");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].key, "odd/a b+c$&=,;@.txt");
}

TEST_F(S3rverTest, ListObjectsV2Paging) {
  S3Client s3 = Client();
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(s3.PutObject(bucket_, "page/" + std::to_string(i) + ".json", "x").ok());
  }
  ASSERT_TRUE(s3.PutObject(bucket_, "page/sub/deep.json", "x").ok());
  ListRequest req;
  req.prefix = "page/";
  req.max_keys = 3;
  std::vector<std::string> keys;
  int pages = 0;
  while (true) {
    auto page = s3.ListObjectsV2(bucket_, req);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ++pages;
    for (const auto& o : page->objects) keys.push_back(o.key);
    if (!page->next_continuation_token) break;
    req.continuation_token = *page->next_continuation_token;
  }
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(keys.size(), 8u);
  EXPECT_EQ(keys.front(), "page/0.json");
  EXPECT_EQ(keys.back(), "page/sub/deep.json");

  ListRequest delimited;
  delimited.prefix = "page/";
  delimited.delimiter = "/";
  auto d = s3.ListObjectsV2(bucket_, delimited);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->objects.size(), 7u);
  EXPECT_EQ(d->common_prefixes, std::vector<std::string>{"page/sub/"});
}

TEST_F(S3rverTest, DeleteObjectsInBatch) {
  S3Client s3 = Client();
  std::vector<std::string> keys;
  for (int i = 0; i < 5; ++i) {
    keys.push_back("batch/" + std::to_string(i));
    ASSERT_TRUE(s3.PutObject(bucket_, keys.back(), "x").ok());
  }
  keys.push_back("batch/never-existed");
  // s3rver deletes a batch in parallel and races removing the emptied folder (500 on
  // ENOENT), so one object stays behind to keep the folder.
  ASSERT_TRUE(s3.PutObject(bucket_, "batch/keep", "x").ok());
  auto deleted = s3.DeleteObjects(bucket_, keys);
  ASSERT_TRUE(deleted.ok()) << deleted.ToString();
  auto left = s3.ListAll(bucket_, "batch/");
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ(left->front().key, "batch/keep");
}

TEST_F(S3rverTest, MultipartUpload) {
  S3Options o;
  o.multipart_threshold = 5 << 20;
  o.part_size = 5 << 20;
  S3Client s3 = Client(o);
  std::string data(11 << 20, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  auto etag = s3.Upload(bucket_, "multi/big.bin", data);
  ASSERT_TRUE(etag.ok()) << etag.status().ToString();
  EXPECT_FALSE(etag->empty());
  auto back = s3.GetObject(bucket_, "multi/big.bin");
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(*back == data);
  EXPECT_EQ(*s3.GetObject(bucket_, "multi/big.bin", ByteRange{(5 << 20) - 2, (5 << 20) + 1}),
            data.substr((5 << 20) - 2, 4));
}

TEST_F(S3rverTest, VirtualHostedAddressing) {
  const std::string host = "s3.us-east-1.amazonaws.com";
  const std::string port = std::to_string(server_->port());
  http::CurlOptions co;
  co.connect_to = {std::string(S3rver::kBucket) + "." + host + ":" + port + ":127.0.0.1:" + port};
  http::CurlHttpClient vhost_http(co);
  S3Options o;
  o.endpoint = "http://" + host + ":" + port;
  o.path_style = false;
  S3Client s3(&vhost_http, &creds_, &clock_, o);
  EXPECT_EQ(s3.Url(bucket_, "vh/obj.txt"), "http://test-bucket." + host + ":" + port + "/vh/obj.txt");
  ASSERT_TRUE(s3.PutObject(bucket_, "vh/obj.txt", "vhost!").ok());
  EXPECT_EQ(*Client().GetObject(bucket_, "vh/obj.txt"), "vhost!");  // visible path-style too
  auto listed = s3.ListAll(bucket_, "vh/");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(listed->size(), 1u);
}

TEST_F(S3rverTest, PresignedGetWorksWithoutCredentials) {
  S3Client s3 = Client();
  ASSERT_TRUE(s3.PutObject(bucket_, "presign/file.txt", "presigned body").ok());
  auto url = s3.PresignGet(bucket_, "presign/file.txt", std::chrono::seconds(300));
  ASSERT_TRUE(url.ok());
  http::HttpRequest r;
  r.url = *url;
  auto resp = http_.Send(r);
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->status, 200) << resp->body;
  EXPECT_EQ(resp->body, "presigned body");
}

TEST_F(S3rverTest, ErrorsAreMapped) {
  S3Client s3 = Client();
  auto missing = s3.GetObject(bucket_, "nope/missing");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("NoSuchKey"), std::string::npos) << missing.status().ToString();
  auto no_bucket = s3.ListObjectsV2("no-such-bucket", ListRequest{});
  EXPECT_EQ(no_bucket.status().code(), StatusCode::kNotFound);
  EXPECT_NE(no_bucket.status().message().find("NoSuchBucket"), std::string::npos);
  StaticCredentialsProvider wrong(Credentials{"WRONGKEY", "x", "", std::nullopt});
  S3Options o;
  o.endpoint = server_->endpoint();
  o.path_style = true;
  S3Client bad(&http_, &wrong, &clock_, o);
  auto denied = bad.GetObject(bucket_, "anything");
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied) << denied.status().ToString();
  EXPECT_NE(denied.status().message().find("InvalidAccessKeyId"), std::string::npos);
}

TEST_F(S3rverTest, ClockSkewIsExplained) {
  FakeClock skewed(std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now()) -
                   std::chrono::hours(1));
  S3Options o;
  o.endpoint = server_->endpoint();
  o.path_style = true;
  S3Client s3(&http_, &creds_, &skewed, o);
  auto r = s3.GetObject(bucket_, "skew");
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << r.status().ToString();
  EXPECT_NE(r.status().message().find("RequestTimeTooSkewed"), std::string::npos);
  EXPECT_NE(r.status().message().find("clock"), std::string::npos);
}

// ---- bad server responses, through the fake transport ----

class S3FakeTest : public ::testing::Test {
 protected:
  S3Client Client() {
    S3Options o;
    o.endpoint = "http://fake:1";
    o.path_style = true;
    return S3Client(&fake_, &creds_, &clock_, o);
  }
  http::FakeHttpClient fake_;
  StaticCredentialsProvider creds_{Credentials{"AKID", "secret", "", std::nullopt}};
  FakeClock clock_{TimePoint(std::chrono::seconds(1'800'000'000))};
};

TEST_F(S3FakeTest, MalformedAndTruncatedListings) {
  S3Client s3 = Client();
  for (const char* body : {"", "not xml", "<ListBucketResult><Contents><Key>a</Key>",
                           "<ListBucketResult><Contents><Key>a</Key><Size>-1</Size></Contents></ListBucketResult>",
                           "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
                           "<html><body>proxy error</body></html>", "<a>&bogus;</a>"}) {
    fake_.Enqueue(200, body, {{"Content-Type", "text/html"}});
    auto r = s3.ListObjectsV2("b", ListRequest{});
    EXPECT_FALSE(r.ok()) << body;
    EXPECT_NE(r.status().message().find("ListObjectsV2"), std::string::npos) << r.status().ToString();
  }
}

TEST_F(S3FakeTest, ErrorInA200Body) {
  S3Client s3 = Client();
  fake_.Enqueue(200, "<InitiateMultipartUploadResult><UploadId>u1</UploadId></InitiateMultipartUploadResult>");
  fake_.Enqueue(200, "", {{"ETag", "\"e1\""}});
  fake_.Enqueue(200, "<?xml version=\"1.0\"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>");
  fake_.Enqueue(204);  // abort
  auto r = s3.MultipartUpload("b", "k", "data");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("InternalError"), std::string::npos) << r.status().ToString();
  const auto reqs = fake_.requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[3].method, "DELETE");  // the upload was aborted
  EXPECT_NE(reqs[3].url.find("uploadId=u1"), std::string::npos);
}

TEST_F(S3FakeTest, TruncatedObjectBody) {
  S3Client s3 = Client();
  fake_.Enqueue(200, "only half", {{"Content-Length", "100"}});
  auto r = s3.GetObject("b", "k");
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("truncated"), std::string::npos);
}

TEST_F(S3FakeTest, CredentialErrors) {
  S3Client s3 = Client();
  fake_.Enqueue(400, "<Error><Code>ExpiredToken</Code><Message>The provided token has expired.</Message></Error>");
  auto r = s3.GetObject("b", "k");
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(r.status().message().find("refresh"), std::string::npos);
  fake_.Enqueue(301, "<Error><Code>PermanentRedirect</Code><Message>use the right endpoint</Message></Error>");
  EXPECT_NE(s3.GetObject("b", "k").status().message().find("region"), std::string::npos);

  StaticCredentialsProvider expired(Credentials{"ASIA", "s", "t", TimePoint(std::chrono::seconds(1'700'000'000))});
  S3Options o;
  o.endpoint = "http://fake:1";
  S3Client old(&fake_, &expired, &clock_, o);
  auto e = old.GetObject("b", "k");
  EXPECT_EQ(e.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(e.status().message().find("expired"), std::string::npos);
}

TEST_F(S3FakeTest, SlowDownIsRetriedWithTheSharedPolicy) {
  class NoWait final : public http::RetryEnv {
   public:
    std::chrono::steady_clock::time_point Now() override { return t; }
    void Sleep(std::chrono::milliseconds d) override { t += d; }
    double Random() override { return 0; }
    std::chrono::steady_clock::time_point t{};
  } env;
  http::RetryingHttpClient retrying(&fake_, S3RetryPolicy(), &env);
  S3Options o;
  o.endpoint = "http://fake:1";
  o.path_style = true;
  S3Client s3(&retrying, &creds_, &clock_, o);
  fake_.Enqueue(503, "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>");
  fake_.Enqueue(400, "<Error><Code>RequestTimeout</Code><Message>idle</Message></Error>");
  fake_.Enqueue(200, "body", {{"Content-Length", "4"}});
  auto r = s3.GetObject("b", "k");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "body");
  for (int i = 0; i < 5; ++i) fake_.Enqueue(503, "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>");
  auto gave_up = s3.GetObject("b", "k");
  ASSERT_FALSE(gave_up.ok());
  EXPECT_NE(gave_up.status().message().find("SlowDown: Please reduce"), std::string::npos)
      << gave_up.status().ToString();
  EXPECT_NE(gave_up.status().message().find("5 attempts"), std::string::npos);
}

TEST_F(S3FakeTest, RequestShapes) {
  S3Client s3 = Client();
  fake_.Enqueue(200, "", {{"ETag", "\"x\""}});
  ASSERT_TRUE(s3.PutObject("b", "dir/a b.txt", "abc", {"", true}).ok());
  const auto put = fake_.requests().back();
  EXPECT_EQ(put.url, "http://fake:1/b/dir/a%20b.txt");
  EXPECT_EQ(http::FindHeader(put.headers, "If-None-Match"), "*");
  EXPECT_EQ(http::FindHeader(put.headers, "Content-MD5"), "kAFQmDzST7DWlj99KOF/cg==");
  EXPECT_EQ(http::FindHeader(put.headers, "x-amz-content-sha256"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_NE(http::FindHeader(put.headers, "Authorization")->find("/us-east-1/s3/aws4_request"), std::string::npos);
  fake_.Enqueue(412, "<Error><Code>PreconditionFailed</Code></Error>");
  EXPECT_EQ(s3.PutObject("b", "k", "x", {"", true}).status().code(), StatusCode::kAlreadyExists);
  S3Options aws;
  aws.region = "eu-west-1";
  S3Client real(&fake_, &creds_, &clock_, aws);
  EXPECT_EQ(real.Url("my-bucket", "a/b"), "https://my-bucket.s3.eu-west-1.amazonaws.com/a/b");
  aws.path_style = true;
  EXPECT_EQ(S3Client(&fake_, &creds_, &clock_, aws).Url("my.bucket", "k", "list-type=2"),
            "https://s3.eu-west-1.amazonaws.com/my.bucket/k?list-type=2");
}

}  // namespace
}  // namespace arbiter::aws

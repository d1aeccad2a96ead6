#include "arbiter/http/http.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "arbiter/http/curl_http_client.h"

namespace arbiter::http {
namespace {

TEST(HttpTest, SplitUrl) {
  auto p = SplitUrl("https://Bucket.s3.amazonaws.com:8443/a/b%20c?x=1&y#frag");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->scheme, "https");
  EXPECT_EQ(p->authority, "Bucket.s3.amazonaws.com:8443");
  EXPECT_EQ(p->path, "/a/b%20c");
  EXPECT_EQ(p->query, "x=1&y");
  auto bare = SplitUrl("http://h?q=1");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->path, "/");
  EXPECT_EQ(bare->query, "q=1");
  EXPECT_FALSE(SplitUrl("no-scheme/x").ok());
  EXPECT_FALSE(SplitUrl("http:///path").ok());
}

TEST(HttpTest, UriEncodeDecode) {
  EXPECT_EQ(UriEncode("a b/c~d+e=\xE1\x88\xB4", true), "a%20b/c~d%2Be%3D%E1%88%B4");
  EXPECT_EQ(UriEncode("a/b", false), "a%2Fb");
  EXPECT_EQ(UriDecode("a%20b%2fc%zz%4"), "a b/c%zz%4");
}

TEST(HttpTest, HeadersAreCaseInsensitive) {
  Headers h{{"Content-Type", "a"}, {"x-amz-date", "b"}};
  EXPECT_EQ(FindHeader(h, "content-type"), "a");
  SetHeader(h, "X-AMZ-DATE", "c");
  EXPECT_EQ(h.size(), 2u);
  EXPECT_EQ(FindHeader(h, "x-amz-date"), "c");
  RemoveHeader(h, "CONTENT-TYPE");
  EXPECT_FALSE(FindHeader(h, "content-type"));
}

TEST(HttpTest, IdempotencyDefaultsFollowTheMethod) {
  HttpRequest r;
  r.method = "POST";
  EXPECT_FALSE(IsIdempotent(r));
  r.idempotent = true;  // e.g. carries an idempotency token
  EXPECT_TRUE(IsIdempotent(r));
  r = HttpRequest{};
  r.method = "DELETE";
  EXPECT_TRUE(IsIdempotent(r));
}

TEST(CurlHttpClientTest, ConnectionRefusedIsUnavailable) {
  // Bind a port, then close it: nothing listens there afterwards.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  CurlHttpClient client;
  HttpRequest r;
  r.url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/";
  r.timeout = std::chrono::milliseconds(2000);
  auto result = client.Send(r);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable) << result.status().ToString();
}

TEST(CurlHttpClientTest, RefusesNonHttpSchemes) {
  CurlHttpClient client;
  HttpRequest r;
  r.url = "file:///etc/passwd";
  auto result = client.Send(r);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << result.status().ToString();
}

}  // namespace
}  // namespace arbiter::http

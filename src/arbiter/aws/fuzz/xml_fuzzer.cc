// libFuzzer target: the XML reader and the S3 error/list interpretation built on it must
// never crash, loop or blow the stack on any input.
#include <cstddef>
#include <cstdint>
#include <string>

#include "arbiter/aws/s3_client.h"
#include "arbiter/aws/xml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  (void)arbiter::aws::ParseXml(body);
  (void)arbiter::aws::DescribeS3Error(body);
  arbiter::http::HttpResponse r;
  r.status = size > 0 ? 300 + data[0] % 300 : 404;
  r.body = body;
  (void)arbiter::aws::S3ErrorStatus(r, "GetObject");
  return 0;
}

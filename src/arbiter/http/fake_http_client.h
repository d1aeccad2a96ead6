// A scripted HttpClient for tests: records every request and answers from a queue of
// responses (or transport errors), or from a handler function.
#pragma once

#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include "arbiter/http/http.h"

namespace arbiter::http {

class FakeHttpClient final : public HttpClient {
 public:
  using Handler = std::function<Result<HttpResponse>(const HttpRequest&)>;

  void Enqueue(int status, std::string body = "", Headers headers = {}) {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(HttpResponse{status, std::move(headers), std::move(body)});
  }
  void EnqueueError(Status status) {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(status));
  }
  // Answers every request not served by the queue.
  void SetHandler(Handler handler) {
    std::lock_guard<std::mutex> lock(mu_);
    handler_ = std::move(handler);
  }

  Result<HttpResponse> Send(const HttpRequest& request) override {
    Handler handler;
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(request);
      if (!queue_.empty()) {
        Result<HttpResponse> r = std::move(queue_.front());
        queue_.pop_front();
        return r;
      }
      handler = handler_;
    }
    if (handler) return handler(request);
    return UnavailableError("fake: no response scripted for " + request.method + " " + request.url);
  }

  std::vector<HttpRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  mutable std::mutex mu_;
  std::deque<Result<HttpResponse>> queue_;
  Handler handler_;
  std::vector<HttpRequest> requests_;
};

}  // namespace arbiter::http

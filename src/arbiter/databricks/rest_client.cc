#include "arbiter/databricks/rest_client.h"

namespace arbiter::databricks {

std::string EncodeQuery(const Query& query) {
  std::string out;
  for (const auto& [k, v] : query) {
    if (!out.empty()) out += '&';
    out += http::UriEncode(k, false) + "=" + http::UriEncode(v, false);
  }
  return out;
}

RestClient::RestClient(http::HttpClient* http, std::string host, AuthProvider* auth)
    : http_(http), host_(std::move(host)), auth_(auth) {
  while (!host_.empty() && host_.back() == '/') host_.pop_back();
}

Result<http::HttpResponse> RestClient::Raw(std::string method, std::string_view path_and_query,
                                           std::string body, http::Headers headers,
                                           bool idempotent) {
  ARBITER_ASSIGN_OR_RETURN(std::string authorization, auth_->Authorization());
  http::HttpRequest request;
  request.method = std::move(method);
  request.url = host_ + std::string(path_and_query);
  request.headers = std::move(headers);
  http::SetHeader(request.headers, "Authorization", std::move(authorization));
  request.body = std::move(body);
  if (idempotent) request.idempotent = true;
  return http_->Send(request);
}

Result<nlohmann::json> RestClient::Get(std::string_view path, const Query& query) {
  http::HttpRequest request;
  request.method = "GET";
  request.url = std::string(path) + (query.empty() ? "" : "?" + EncodeQuery(query));
  return Json(std::move(request), path);
}

Result<nlohmann::json> RestClient::Post(std::string_view path, const nlohmann::json& body,
                                        bool idempotent) {
  http::HttpRequest request;
  request.method = "POST";
  request.url = std::string(path);
  request.body = body.dump();
  if (idempotent) request.idempotent = true;
  return Json(std::move(request), path);
}

Result<nlohmann::json> RestClient::Json(http::HttpRequest request, std::string_view what) {
  http::Headers headers = {{"Accept", "application/json"}};
  if (request.method == "POST") headers.emplace_back("Content-Type", "application/json");
  Result<http::HttpResponse> response =
      Raw(request.method, request.url, std::move(request.body), std::move(headers),
          request.idempotent.value_or(false));
  if (!response.ok()) return response.status().WithContext(std::string(what));
  if (response->status < 200 || response->status > 299) {
    return DatabricksErrorStatus(response->status, response->body)
        .WithContext(request.method + " " + std::string(what));
  }
  if (response->body.empty()) return nlohmann::json::object();
  nlohmann::json doc = nlohmann::json::parse(response->body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return InternalError(request.method + " " + std::string(what) +
                         ": the response is not a JSON object");
  }
  return doc;
}

}  // namespace arbiter::databricks

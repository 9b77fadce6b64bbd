using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Reasoner.Models.Backends.OpenAi;

namespace Reasoner.Cli.Serving;

/// <summary>OpenAI-style error answers, <c>{"error": {"message", "type", "code", "param"}}</c>, for every endpoint of the server.</summary>
static partial class ApiErrors
{
    public static async Task WriteAsync(HttpContext http, int status, string type, string? field, string message)
    {
        http.Response.StatusCode = status;
        var error = new ErrorResponseBody(new ErrorBody { Message = message, Type = type, Code = status, Param = field });
        await http.Response.WriteAsJsonAsync(error, CompletionsJsonContext.Default.ErrorResponseBody, cancellationToken: http.RequestAborted);
    }

    /// <summary>
    /// Reads and validates a request body: the validated request, or null after answering 400 naming the field at fault
    /// (a body that is not the request type, or one <paramref name="validate"/> refuses with a <see cref="BadRequestException"/>).
    /// </summary>
    public static async Task<TRequest?> ReadAsync<TBody, TRequest>(HttpContext http, JsonTypeInfo<TBody> type, Func<TBody, TRequest> validate)
        where TRequest : class
    {
        try
        {
            var body = await JsonSerializer.DeserializeAsync(http.Request.Body, type, http.RequestAborted)
                ?? throw new BadRequestException(null, "the body must be a JSON object");
            return validate(body);
        }
        catch (JsonException e)
        {
            await WriteUnreadableAsync(http, e);
        }
        catch (BadRequestException e)
        {
            await WriteAsync(http, StatusCodes.Status400BadRequest, "invalid_request_error", e.Field, e.Message);
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await WriteAsync(http, StatusCodes.Status413PayloadTooLarge, "invalid_request_error", null,
                $"the body is larger than this server's limit of {http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize} bytes (serve-model --max-body-bytes)");
        }
        return null;
    }

    /// <summary>A body that could not be read as the request type: 400 naming the field at fault.</summary>
    public static Task WriteUnreadableAsync(HttpContext http, JsonException e) =>
        WriteAsync(http, StatusCodes.Status400BadRequest, "invalid_request_error", FieldOf(e.Path), WhatWasWrong(e));

    public static string? FieldOf(string? jsonPath) => jsonPath is null ? null : TopLevelField().Match(jsonPath) is { Success: true } m ? m.Groups[1].Value : null;

    public static string WhatWasWrong(JsonException e)
    {
        var field = FieldOf(e.Path);
        if (field is null) return $"the body is not a valid JSON object ({e.Message})";
        // System.Text.Json appends "Path: … | LineNumber: …" to its own messages; the field name says it better.
        var reason = e.Message.Split(" Path: ")[0].TrimEnd('.');
        return $"field '{field}' is not valid: {reason}";
    }

    [GeneratedRegex(@"^\$\.([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex TopLevelField();
}

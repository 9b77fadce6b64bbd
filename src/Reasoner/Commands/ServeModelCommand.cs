using System.CommandLine;
using Microsoft.Extensions.Logging;
using Reasoner.Cli.Serving;
using Reasoner.Models;
using Reasoner.Models.Backends;

namespace Reasoner.Cli.Commands;

/// <summary><c>serve-model --model SPEC</c>: a language model over the OpenAI-compatible completions API, until Ctrl-C or SIGTERM.</summary>
static class ServeModelCommand
{
    public static Command Create(CliContext context)
    {
        var model = new Option<string>("--model", "-m")
        {
            Description = "What to serve: builtin (the built-in model) or a Hugging Face model folder on the in-process engine, a .gguf file on " +
                          "llama.cpp, or http(s)://HOST:PORT / MODEL@http(s)://HOST:PORT to proxy an OpenAI-compatible server.",
            DefaultValueFactory = _ => LanguageModelFactory.Builtin,
        };
        var host = new Option<string>("--host") { Description = "IP address to listen on (or localhost). The server has no authentication: keep it on loopback unless it sits behind one.", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port", "-p") { Description = "Port to listen on; 0 picks a free one.", DefaultValueFactory = _ => 8000 };
        var servedName = new Option<string?>("--served-model-name") { Description = "The model name in answers and in /v1/models. Default: the backend's model id." };
        var command = new Command("serve-model",
            "Serve a language model over the OpenAI-compatible API (POST /v1/completions with n, stop, seed, logprobs, echo; GET /v1/models; GET /health), " +
            "so that search workers on other machines, or other tools, can use it. Stops gracefully on Ctrl-C or SIGTERM.")
        {
            model, host, port, servedName,
        };
        command.SetAction(async (parse, stop) =>
        {
            using var backend = LanguageModelFactory.Create(parse.GetValue(model)!, TorchRuntime.ParseDevice(context.Settings.Device));
            var options = new ModelServerOptions { Host = parse.GetValue(host)!, Port = parse.GetValue(port), ServedModelName = parse.GetValue(servedName) };
            await using var server = await ModelServer.StartAsync(backend, options, context.Loggers, stop);
            var log = context.Loggers.CreateLogger("serve-model");
            log.LogInformation("serving {Model} at {Url} (Ctrl-C to stop)", options.ServedModelName ?? backend.ModelId, server.BaseUrl);
            await server.WaitForShutdownAsync(stop);
            log.LogInformation("stopped");
            return 0;
        });
        return command;
    }
}

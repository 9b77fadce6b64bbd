using System.CommandLine;
using Microsoft.Extensions.Logging;
using Reasoner.Cli.Hosting;
using Reasoner.Cli.Serving;
using Reasoner.Models;
using Reasoner.Models.Backends;
using Reasoner.Models.Scoring;

namespace Reasoner.Cli.Commands;

/// <summary>
/// <c>serve-model --model SPEC [--scorer DIR]</c>: a language model over the OpenAI-compatible completions API, and a step
/// scorer over <c>POST /v1/score</c>, until Ctrl-C or SIGTERM. A scorer folder given as <c>--model</c> is served alone.
/// </summary>
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
        var scorer = new Option<string?>("--scorer")
        {
            Description = "Also serve a step scorer at POST /v1/score: a train plv verifier folder, or a train oreo folder (its value head). " +
                          "Search workers elsewhere use it as generate --verifier http://HOST:PORT. A verifier folder given as --model is served alone.",
        };
        var apiKey = new Option<string?>("--api-key") { Description = "Require Authorization: Bearer KEY on /v1/* (401 without it), as vLLM's --api-key. Reasoner's clients send it with Backend:ApiKey. Also read from REASONER_API_KEY." };
        var dtype = new Option<string>("--dtype") { Description = "Weight dtype of the in-process engine: fp32, or bf16 (faster on a GPU or a CPU with bf16 instructions; samples can differ from fp32's by rounding), as vLLM's --dtype.", DefaultValueFactory = _ => "fp32", HelpName = "fp32|bf16" };
        dtype.AcceptOnlyFromAmong("fp32", "bf16");
        var maxN = new Option<int>("--max-n") { Description = "Most completions one request may ask for (n); more answer 400.", DefaultValueFactory = _ => 64 };
        var maxQueued = new Option<int>("--max-queued") { Description = "Most requests in the server at once, running or waiting; more answer 429 with Retry-After, which clients retry.", DefaultValueFactory = _ => 256 };
        var maxBody = new Option<long>("--max-body-bytes") { Description = "Largest request body; larger ones answer 413.", DefaultValueFactory = _ => 4L << 20 };
        var command = new Command("serve-model",
            "Serve a language model over the OpenAI-compatible API (POST /v1/completions with n, stop, seed, logprobs, echo; GET /v1/models; GET /health), " +
            "and a step verifier or value model over POST /v1/score, so that search workers on other machines, or other tools, can use them. " +
            "Stops gracefully on Ctrl-C or SIGTERM.")
        {
            model, host, port, servedName, scorer, apiKey, dtype, maxN, maxQueued, maxBody,
        };
        command.SetAction(async (parse, stop) =>
        {
            var device = TorchRuntime.ParseDevice(context.Settings.Device);
            var spec = parse.GetValue(model)!;
            var scorerSpec = parse.GetValue(scorer);
            // A verifier has no language-model head: named as the model, it is the scorer, and nothing generates.
            if (parse.GetResult(scorer) is null && Directory.Exists(spec) && ScorerEngine.IsScorerFolder(spec)) (spec, scorerSpec) = ("", spec);
            // On a thread of its own: the loading thread must not keep a team of libtorch threads beside the engine's.
            using var backend = spec.Length > 0 ? IntraOpThreads.OnThreadOfItsOwn(() => LanguageModelFactory.Create(spec, device, dtype: TorchRuntime.ParseDtype(parse.GetValue(dtype)!))) : null;
            using var scoring = scorerSpec is null ? null : IntraOpThreads.OnThreadOfItsOwn(() => ScorerEngine.Load(scorerSpec, device));
            if (parse.GetValue(maxN) < 1 || parse.GetValue(maxQueued) < 1 || parse.GetValue(maxBody) < 1024)
                throw new UserError("--max-n and --max-queued must be at least 1, --max-body-bytes at least 1024");
            var key = parse.GetValue(apiKey) ?? (Environment.GetEnvironmentVariable("REASONER_API_KEY") is { Length: > 0 } k ? k : null);
            var options = new ModelServerOptions
            {
                Host = parse.GetValue(host)!, Port = parse.GetValue(port), ServedModelName = parse.GetValue(servedName),
                ApiKey = key, MaxN = parse.GetValue(maxN), MaxQueuedRequests = parse.GetValue(maxQueued), MaxBodyBytes = parse.GetValue(maxBody),
            };
            await using var server = await ModelServer.StartAsync(backend, scoring, options, context.Loggers, stop);
            var log = context.Loggers.CreateLogger("serve-model");
            if (backend is not null) log.LogInformation("serving {Model} at {Url}/v1/completions", options.ServedModelName ?? backend.ModelId, server.BaseUrl);
            if (scoring is not null) log.LogInformation("serving the step scorer {Scorer} at {Url}/v1/score", scoring.Id, server.BaseUrl);
            log.LogInformation("Ctrl-C to stop");
            await server.WaitForShutdownAsync(stop);
            log.LogInformation("stopped");
            return 0;
        });
        return command;
    }
}

using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using Reasoner.Cli.Commands;
using Reasoner.Cli.Hosting;
using Spectre.Console;

namespace Reasoner.Cli;

/// <summary>
/// The executable: a Generic Host (configuration, logging, services) under a System.CommandLine tree.
/// Exit codes: 0 success, 1 the work failed (or, for <c>check</c>, the answer is wrong), 2 bad input.
/// </summary>
public static class ReasonerApp
{
    public static async Task<int> RunAsync(string[] args, TextWriter? stdout = null, TextWriter? stderr = null,
        IReadOnlyDictionary<string, string?>? configOverrides = null, CancellationToken cancel = default)
    {
        stdout ??= Console.Out;
        stderr ??= Console.Error;
        IHost host;
        try
        {
            host = BuildHost(stdout, stderr, configOverrides);
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or InvalidOperationException)
        {
            // A malformed appsettings.json or an environment value of the wrong type.
            await stderr.WriteLineAsync($"error: bad configuration: {e.Message}");
            return 2;
        }
        using (host)
        {
            var context = host.Services.GetRequiredService<CliContext>();
            var root = BuildCommands(context);
            // A bare invocation shows the overview rather than an error.
            var parse = root.Parse(args.Length == 0 ? ["--help"] : args);
            if (parse.Errors.Count > 0)
            {
                // One line: the parser's messages folded together, and where to read the usage.
                var messages = string.Join("; ", parse.Errors.Select(e => string.Join(' ', e.Message.Split((char[])['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries))));
                await stderr.WriteLineAsync($"error: {messages} (see 'reasoner {CommandPath(parse)} --help')".Replace("  ", " "));
                return 2;
            }
            // No ProcessTerminationTimeout: generate and serve stop gracefully on SIGINT/SIGTERM themselves, with a grace
            // period longer than System.CommandLine's forced return; the other commands end at once, as the OS does.
            var invocation = new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null };
            try
            {
                return await parse.InvokeAsync(invocation, cancel);
            }
            catch (OperationCanceledException)
            {
                await stderr.WriteLineAsync("cancelled");
                return 130;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                var userMistake = e is UserError or Training.Framework.TrainingRunException or FileNotFoundException or DirectoryNotFoundException or ArgumentException or Core.Datasets.DatasetFormatException;
                await stderr.WriteLineAsync($"error: {OneLine(e)}");
                if (Environment.GetEnvironmentVariable("REASONER_DEBUG") == "1") await stderr.WriteLineAsync(e.ToString());
                return userMistake ? 2 : 1;
            }
        }
    }

    public static RootCommand BuildCommands(CliContext context)
    {
        var root = new RootCommand(
            "Reasoner: step-level reasoning preference data from tree search, and trainers that learn from it.\n" +
            "Settings come from appsettings.json, then REASONER_* environment variables, then these options.");
        root.Add(TasksCommand.Create(context));
        root.Add(CheckCommand.Create(context));
        root.Add(ShowCommand.Create(context));
        root.Add(ViewCommand.Create(context));
        root.Add(ExportCommand.Create(context));
        root.Add(ServeModelCommand.Create(context));
        root.Add(ExportGgufCommand.Create(context));
        root.Add(BenchCommand.Create(context));
        root.Add(PretrainCommand.Create(context));
        root.Add(EvalCommand.Create(context));
        root.Add(TrainCommand.Create(context));
        root.Add(IterateCommand.Create(context));
        root.Add(GamesCommand.Create(context));
        root.Add(ReportCommand.Create(context));
        root.Add(GenerateCommand.Create(context));
        root.Add(ServeCommand.Create(context));
        root.Add(EnqueueCommand.Create(context));
        return root;
    }

    static IHost BuildHost(TextWriter stdout, TextWriter stderr, IReadOnlyDictionary<string, string?>? configOverrides)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            ContentRootPath = AppContext.BaseDirectory,
        });
        // Precedence, lowest first: shipped appsettings.json, one in the working folder, REASONER_* variables.
        builder.Configuration
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddJsonFile(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json"), optional: true)
            .AddEnvironmentVariables("REASONER_");
        if (configOverrides is not null) builder.Configuration.AddInMemoryCollection(configOverrides);
        builder.Services.Configure<ReasonerSettings>(builder.Configuration);
        // Logs go to stderr so stdout stays clean for data (JSONL, tables) that other tools read.
        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Services.AddSingleton(sp => new CliContext(
            sp.GetRequiredService<IOptions<ReasonerSettings>>().Value,
            sp.GetRequiredService<ILoggerFactory>(),
            stdout,
            stderr,
            CreateConsole(stdout)));
        var host = builder.Build();
        _ = host.Services.GetRequiredService<IOptions<ReasonerSettings>>().Value; // bind now: bad values fail here
        return host;
    }

    static IAnsiConsole CreateConsole(TextWriter stdout)
    {
        var terminal = ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(stdout),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
        });
        // Piped output is read by tools and people's editors, not wrapped at a guessed 80 columns.
        if (!terminal) console.Profile.Width = 320;
        return console;
    }

    static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var r = parse.CommandResult; r is not null; r = r.Parent as System.CommandLine.Parsing.CommandResult)
            if (r.Command is not RootCommand) names.Insert(0, r.Command.Name);
        return string.Join(' ', names);
    }

    static string OneLine(Exception e)
    {
        var message = e.Message;
        if (e is not UserError && e.InnerException is { } inner && !message.Contains(inner.Message)) message += $" ({inner.Message})";
        return message.ReplaceLineEndings(" ");
    }
}

/// <summary>What every command needs: settings in force, logging and the output console.</summary>
public sealed class CliContext(ReasonerSettings settings, ILoggerFactory loggers, TextWriter output, TextWriter errors, IAnsiConsole console)
{
    public ReasonerSettings Settings { get; } = settings;
    public ILoggerFactory Loggers { get; } = loggers;
    /// <summary>Plain output for data other tools read.</summary>
    public TextWriter Output { get; } = output;
    /// <summary>Standard error: messages for people while standard output carries data.</summary>
    public TextWriter Errors { get; } = errors;
    /// <summary>Tables, trees and progress for people.</summary>
    public IAnsiConsole Console { get; } = console;
}

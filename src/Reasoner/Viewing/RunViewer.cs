using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Reasoner.Core.Prompts;
using Reasoner.Core.Storage;
using Reasoner.Core.Trees;
using static TorchSharp.torch;

namespace Reasoner.Cli.Viewing;

/// <summary>The run page's data: the run's trees as rows, and the plots found in its folder.</summary>
public sealed record RunData(string Run, string Directory, IReadOnlyList<TreeRow> Trees, IReadOnlyList<string> Plots, IReadOnlyList<string> Models,
    IReadOnlyList<string> Damage);

/// <summary>
/// The run viewer's pages and API, mapped under a prefix on any Kestrel app (<c>view RUN</c> at the root, <c>serve</c> under
/// <c>/runs</c>). Pages and scripts are embedded in the executable; step text reaches the page as JSON and is drawn as text.
/// Files are served only from inside the run folder; trees are re-read when the store's segments change.
/// </summary>
public sealed class RunViewer : IDisposable
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    static readonly Assembly Assembly = typeof(RunViewer).Assembly;
    const string AssetPrefix = "Reasoner.Cli.Viewing.Assets.";

    readonly string runDirectory;
    readonly IReadOnlyList<string> models;
    readonly TrainedModelScores scores;
    readonly Lock gate = new();
    (string Key, IReadOnlyList<PreferenceTree> Trees, IReadOnlyList<string> Damage)? cached;

    /// <param name="models">Trained model folders the tree page may ask about (β·log π/π_ref, verifier or value scores).</param>
    public RunViewer(string runDirectory, PromptLibrary prompts, IReadOnlyList<string>? models = null, Device? device = null)
    {
        this.runDirectory = Path.GetFullPath(runDirectory);
        this.models = [.. (models ?? []).Select(Path.GetFullPath)];
        foreach (var m in this.models) TrainedModelScores.Describe(m);
        scores = new TrainedModelScores(this.runDirectory, prompts, device);
    }

    public void Map(IEndpointRouteBuilder app, string prefix = "")
    {
        prefix = prefix.TrimEnd('/');
        var group = app.MapGroup(prefix);
        var pageBase = prefix + "/";
        group.MapGet("/", () => Page("run.html", pageBase));
        group.MapGet("/tree/{index:int}", (int index) => Page("tree.html", pageBase));
        group.MapGet("/assets/{name}", (string name) => Asset(name));
        group.MapGet("/api/run", () => Results.Json(Run(), Json));
        group.MapGet("/api/models", () => Results.Json(new { models = ModelNames }, Json));
        group.MapGet("/api/trees/{index:int}", (int index) =>
            Tree(index) is { } tree ? Results.Json(TreePageData.Page(index, tree), Json) : NoTree(index));
        group.MapGet("/api/trees/{index:int}/scores", async (int index, int model, CancellationToken cancel) =>
        {
            if (Tree(index) is not { } tree) return NoTree(index);
            if (model < 0 || model >= models.Count)
                return Results.Json(new { error = $"model must be 0..{models.Count - 1}: the folders given with --model" }, Json, statusCode: 400);
            try { return Results.Json(await scores.ScoreAsync(index, tree, models[model], cancel), Json); }
            catch (Exception e) when (e is ArgumentException or InvalidDataException or IOException)
            {
                return Results.Json(new { error = e.Message }, Json, statusCode: 422);
            }
        });
        group.MapGet("/files/{**path}", (string path) => RunFile(path));
    }

    /// <summary>A page template with the prefix it is served under, so that its relative links work under <c>/runs/</c> too.</summary>
    static IResult Page(string name, string pageBase) =>
        Results.Content(ReadAsset(name)!.Replace("{{base}}", pageBase, StringComparison.Ordinal), "text/html; charset=utf-8");

    static IResult Asset(string name)
    {
        var type = Path.GetExtension(name) switch
        {
            ".js" => "text/javascript; charset=utf-8",
            ".css" => "text/css; charset=utf-8",
            _ => null,
        };
        return type is not null && ReadAsset(name) is { } text ? Results.Content(text, type) : Results.NotFound();
    }

    static string? ReadAsset(string name)
    {
        using var stream = Assembly.GetManifestResourceStream(AssetPrefix + name);
        if (stream is null) return null;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>
    /// A file inside the run folder, by a path relative to it. Anything that resolves outside (<c>..</c>, an absolute path, a
    /// link out) is 404.
    /// </summary>
    IResult RunFile(string relative)
    {
        if (ResolveInside(runDirectory, relative) is not { } full || !File.Exists(full)) return Results.NotFound();
        var type = Path.GetExtension(full).ToLowerInvariant() switch
        {
            ".png" => "image/png",
            ".json" => "application/json",
            ".jsonl" or ".txt" or ".md" or ".log" => "text/plain; charset=utf-8",
            _ => "application/octet-stream",
        };
        return Results.File(full, type);
    }

    /// <summary>
    /// The full path of <paramref name="relative"/> when it lies inside <paramref name="root"/>; null when it resolves outside
    /// (<c>..</c>, an absolute path) or passes through a link, which could point anywhere.
    /// </summary>
    public static string? ResolveInside(string root, string relative)
    {
        if (string.IsNullOrEmpty(relative) || Path.IsPathRooted(relative) || relative.Contains('\0')) return null;
        var rootFull = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root)) + Path.DirectorySeparatorChar;
        var full = Path.GetFullPath(Path.Combine(rootFull, relative));
        if (!full.StartsWith(rootFull, StringComparison.Ordinal)) return null;
        var current = rootFull;
        foreach (var part in full[rootFull.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            current = Path.Combine(current, part);
            FileSystemInfo info = Directory.Exists(current) ? new DirectoryInfo(current) : new FileInfo(current);
            if (info.Exists && info.LinkTarget is not null) return null;
        }
        return full;
    }

    static IResult NoTree(int index) => Results.Json(new { error = $"no tree at index {index}" }, Json, statusCode: 404);

    public RunData Run()
    {
        var (trees, damage) = Trees();
        var plots = Directory.EnumerateFiles(runDirectory, "*.png", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(runDirectory, f).Replace('\\', '/'))
            .Where(f => !f.StartsWith(TrainedModelScores.CacheFolder + "/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToList();
        return new RunData(Path.GetFileName(runDirectory), runDirectory, [.. trees.Select((t, i) => TreePageData.Row(i, t))], plots,
            ModelNames, damage);
    }

    IReadOnlyList<string> ModelNames => [.. models.Select(m => Path.GetFileName(m) is { Length: > 0 } name ? name : m)];

    PreferenceTree? Tree(int index)
    {
        var (trees, _) = Trees();
        return index >= 0 && index < trees.Count ? trees[index] : null;
    }

    /// <summary>The store's trees, read again only when its segments change (a run still generating grows).</summary>
    (IReadOnlyList<PreferenceTree> Trees, IReadOnlyList<string> Damage) Trees()
    {
        var folder = Path.Combine(runDirectory, TreeStore.TreesFolderName);
        var key = Directory.Exists(folder)
            ? string.Join("|", new DirectoryInfo(folder).EnumerateFiles().OrderBy(f => f.Name, StringComparer.Ordinal).Select(f => $"{f.Name}:{f.Length}:{f.LastWriteTimeUtc.Ticks}"))
            : "";
        lock (gate)
        {
            if (cached is { } c && c.Key == key) return (c.Trees, c.Damage);
            var damage = new List<string>();
            var trees = Directory.Exists(folder)
                ? TreeStore.Open(runDirectory).ReadAll(d => damage.Add(Commands.ShowCommand.DamageLine(d))).ToList()
                : [];
            cached = (key, trees, damage);
            return (trees, damage);
        }
    }

    public void Dispose() => scores.Dispose();
}

using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Reasoner.Core.Problems;

namespace Reasoner.Core.Prompts;

/// <summary>
/// The prompt files under a root folder (the repository's <c>prompts/</c>), addressed by their path without
/// ".txt", e.g. "math/solve" or "self-eval". See prompts/README.md for each file's placeholders.
/// </summary>
public sealed partial class PromptLibrary(string root)
{
    public const string SelfEval = "self-eval";

    /// <summary>The self-evaluation prompt without worked examples, for models trained from scratch on the bare format.</summary>
    public const string SelfEvalBare = "self-eval-bare";

    /// <summary>Look-up drills in pretraining: the question, then its statements again.</summary>
    public const string LookupBare = "lookup-bare";

    /// <summary>The family-independent solve prompt for models trained on the tasks' own solutions (no few-shot examples).</summary>
    public const string SolveBare = "solve-bare";

    /// <summary>Pairwise judging of two solutions (ONPO's judge oracle).</summary>
    public const string JudgePair = "judge-pair";

    /// <summary>A few-shot prompt is followed by more examples; these end a whole solution to ours (the step delimiter ends a step).</summary>
    public static IReadOnlyList<string> FewShotStops { get; } = ["\n\n", "\nQuestion:"];

    private readonly ConcurrentDictionary<string, PromptTemplate> _cache = new();

    public string Root { get; } = Path.GetFullPath(root);

    public PromptTemplate Get(string name)
    {
        // Names are relative paths inside the root; anything else could read files outside it.
        if (!PromptName().IsMatch(name)) throw new ArgumentException($"'{name}' is not a prompt name like 'math/solve'", nameof(name));
        return _cache.GetOrAdd(name, n =>
        {
            var path = Path.Combine(Root, n + ".txt");
            if (!File.Exists(path)) throw new FileNotFoundException($"prompt '{n}' not found: {path}", path);
            return new PromptTemplate(path, File.ReadAllText(path));
        });
    }

    /// <summary>Every prompt name under the root.</summary>
    public IReadOnlyList<string> Names() =>
        Directory.EnumerateFiles(Root, "*.txt", SearchOption.AllDirectories)
            .Select(f => Path.ChangeExtension(Path.GetRelativePath(Root, f), null).Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal)
            .ToArray();

    /// <summary>The prompt folder of a problem family: arith, gsm8k, math → math; logic → logic; arc, csqa → commonsense; strategyqa → yesno.</summary>
    public static string FolderFor(string family) => TaskFamilies.Get(family).PromptFolder;

    /// <summary>The few-shot solve prompt for a family, e.g. "commonsense/solve" for "arc".</summary>
    public static string SolvePromptFor(string family) => FolderFor(family) + "/solve";

    /// <summary>
    /// The text a solution continues: the family's few-shot solve prompt, or <c>solve-bare</c> for models trained on
    /// the built-in tasks' own format, rendered for the problem. Search starts every tree from it and trainers rebuild
    /// the policy's prompts from it, so both see the same text.
    /// </summary>
    public string RenderSolve(Problem problem, bool bare) =>
        Get(bare ? SolveBare : SolvePromptFor(problem.Family))
            .Render(new Dictionary<string, string> { ["question"] = FormatQuestion(problem) });

    /// <summary>The question as prompts show it: for a choice problem, followed by a line "Choices: (A) ... (B) ...".</summary>
    public static string FormatQuestion(Problem problem) =>
        problem.Choices.Count == 0
            ? problem.Question
            : problem.Question + "\nChoices: " + string.Join(" ", problem.Choices.Select(c => $"({c.Label}) {c.Text}"));

    /// <summary>Steps one per line for <c>{{steps}}</c>; "(none)" before the first step, so the prompt never has an empty slot.</summary>
    public static string FormatSteps(IEnumerable<string> steps) =>
        string.Join('\n', steps) is { Length: > 0 } joined ? joined : "(none)";

    /// <summary>
    /// The repository's prompts folder: the first "prompts" folder holding self-eval.txt found walking up from
    /// the application's folder, then from the current directory.
    /// </summary>
    public static string FindDefaultRoot()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var folder = new DirectoryInfo(start); folder is not null; folder = folder.Parent)
            {
                var candidate = Path.Combine(folder.FullName, "prompts");
                if (File.Exists(Path.Combine(candidate, SelfEval + ".txt"))) return candidate;
            }
        }
        throw new DirectoryNotFoundException(
            $"no prompts folder with {SelfEval}.txt above {AppContext.BaseDirectory} or {Directory.GetCurrentDirectory()}");
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]*(/[a-z0-9][a-z0-9-]*)*$")]
    private static partial Regex PromptName();
}

namespace Reasoner.Core.Prompts;

/// <summary>Which solve prompt opens a solution.</summary>
public enum SolvePromptStyle
{
    /// <summary>The family's few-shot prompt (<see cref="PromptLibrary.SolvePromptFor"/>).</summary>
    FewShot,

    /// <summary><c>solve-bare</c>: question and "Answer:" only, for small models trained on the tasks' own solutions.</summary>
    Bare,
}

/// <summary>
/// The solve prompt's names, as the command line takes them and as a tree's search settings record them (the world
/// writes <see cref="Setting"/>; trainers read it to rebuild the text the policy saw).
/// </summary>
public static class SolvePromptStyles
{
    /// <summary>The tree setting that says which solve prompt opened its solutions.</summary>
    public const string Setting = "world.solvePrompt";

    public const string Bare = "bare";

    public const string FewShot = "few-shot";

    public static string Name(SolvePromptStyle style) => style == SolvePromptStyle.Bare ? Bare : FewShot;

    /// <summary>The style a name stands for; null for anything else.</summary>
    public static SolvePromptStyle? Parse(string? name) => name switch
    {
        Bare => SolvePromptStyle.Bare,
        FewShot => SolvePromptStyle.FewShot,
        _ => null,
    };
}

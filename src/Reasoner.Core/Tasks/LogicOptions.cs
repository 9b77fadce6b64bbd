namespace Reasoner.Core.Tasks;

/// <summary>
/// Shape of the logic deduction problems. The defaults are difficulty 2. Statements are always shuffled, so
/// each hop means finding the one rule about the current category among the distractors.
/// </summary>
public sealed record LogicOptions
{
    /// <summary>Fewest deductions from the person's category to the asked property; hop counts are drawn uniformly.</summary>
    public int MinHops { get; init; } = 1;

    public int MaxHops { get; init; } = 4;

    /// <summary>
    /// Statements that play no part in the answer. The first always gives the asked property the opposite
    /// value for an unrelated category, so "find any sentence with the property" never works.
    /// </summary>
    public int Distractors { get; init; } = 4;

    /// <summary>
    /// Whether the first distractor gives the asked property the opposite value for another category (the default, and
    /// every test set). Without it no other rule names the asked property, so the polarity can be read from any rule about
    /// the property: training problems of that kind make a head that finds those rules useful before it can tell C's from
    /// another's (pretrain --uncontested-share).
    /// </summary>
    public bool Contested { get; init; } = true;

    /// <summary>1: 1-2 hops, 2 distractors. 2: the defaults. 3: 2-5 hops, 6 distractors.</summary>
    public static LogicOptions ForDifficulty(int difficulty) => difficulty switch
    {
        1 => new LogicOptions { MaxHops = 2, Distractors = 2 },
        2 => new LogicOptions(),
        3 => new LogicOptions { MinHops = 2, MaxHops = 5, Distractors = 6 },
        _ => throw new ArgumentOutOfRangeException(nameof(difficulty), difficulty, "logic difficulty is 1, 2 or 3"),
    };

    internal void Validate()
    {
        if (MinHops < 1 || MaxHops < MinHops || MaxHops > 8)
            throw new ArgumentException($"logic hops must satisfy 1 <= MinHops <= MaxHops <= 8, got {MinHops}..{MaxHops}");
        if (Distractors < 0 || Distractors > 10)
            throw new ArgumentException($"logic Distractors must be in [0, 10], got {Distractors}");
    }
}

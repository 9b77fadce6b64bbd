namespace Reasoner.Core.Export;

/// <param name="Trees">Trees read from the input.</param>
/// <param name="TreesUsed">Trees that produced at least one line.</param>
/// <param name="Lines">JSON lines written.</param>
public sealed record ExportCounts(int Trees, int TreesUsed, int Lines);

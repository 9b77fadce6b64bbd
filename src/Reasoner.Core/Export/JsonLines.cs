using System.Text.Encodings.Web;
using System.Text.Json;

namespace Reasoner.Core.Export;

/// <summary>
/// Writes one JSON object per line as UTF-8 without a BOM, lines ended by '\n' on every platform.
/// Non-ASCII text (LaTeX, other scripts) stays readable instead of becoming \u escapes; the output is
/// data files, never HTML, so the relaxed encoder's lack of HTML escaping is harmless.
/// </summary>
internal sealed class JsonLines : IDisposable
{
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly Stream _output;
    private readonly Utf8JsonWriter _writer;

    public JsonLines(Stream output)
    {
        _output = output;
        _writer = new Utf8JsonWriter(output, WriterOptions);
    }

    public int Count { get; private set; }

    public void WriteLine(Action<Utf8JsonWriter> writeValue)
    {
        writeValue(_writer);
        _writer.Flush();
        _output.WriteByte((byte)'\n');
        // A Utf8JsonWriter accepts one top-level value; Reset starts the next line's value.
        _writer.Reset();
        Count++;
    }

    public void Dispose()
    {
        _writer.Dispose();
        _output.Flush();
    }
}

using System.Text;

namespace Reasoner.Cli.Hosting;

/// <summary>
/// A write-only stream that decodes UTF-8 onto a <see cref="TextWriter"/>: exporters write bytes, while a command's
/// standard output is a writer (the process's, or the one a caller such as a test hands to <c>ReasonerApp.RunAsync</c>).
/// A character split across writes is held until its last byte arrives.
/// </summary>
sealed class TextWriterStream(TextWriter writer) : Stream
{
    private readonly Decoder _decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetDecoder();

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        var chars = new char[_decoder.GetCharCount(buffer, flush: false)];
        _decoder.GetChars(buffer, chars, flush: false);
        writer.Write(chars);
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Flush() => writer.Flush();

    /// <summary>Flushes; the writer is the caller's and stays open.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing) writer.Flush();
        base.Dispose(disposing);
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}

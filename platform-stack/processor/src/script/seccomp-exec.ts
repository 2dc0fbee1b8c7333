/**
 * The script host's kernel-level network boundary. Node has no seccomp API and the host may load
 * no native add-on, so a few lines of Perl (perl-base is in every Debian image, the processor's
 * included) install a seccomp filter and exec Node with it: with no_new_privs set this needs no
 * privilege, and Docker's default seccomp profile allows it. The filter makes socket(2) fail with
 * EACCES for every address family, so no TCP, UDP, raw, netlink or unix socket can be opened by
 * the host or anything it runs, however the script reaches a native handle; io_uring, which can
 * open and connect sockets itself, is refused too. x32 system calls are refused and those of
 * another architecture (i386 `int 0x80`) kill the process, so no other ABI's numbering slips
 * through. The host keeps the pipe it inherits from the
 * processor (socketpair is not socket(2), and the pipe exists before the filter).
 *
 * Usage: PERL -e SECCOMP_EXEC_PERL <program> <args...>
 */
export const PERL = '/usr/bin/perl';

export const SECCOMP_EXEC_PERL = String.raw`
use strict;
use Config;
my %abi = (x86_64 => [0xC000003E, 157, 41, 425], aarch64 => [0xC00000B7, 167, 198, 425]);
my ($machine) = $Config{archname} =~ /^([^-]+)/;
my $abi = $abi{$machine} or die "seccomp-exec: unsupported architecture $machine\n";
my ($audit_arch, $nr_prctl, $nr_socket, $nr_io_uring_setup) = @$abi;
sub op { pack('S C C L', @_) }
my $filter = join '',
  op(0x20, 0, 0, 4),                  # A = seccomp_data.arch
  op(0x15, 1, 0, $audit_arch),        # the native ABI goes on,
  op(0x06, 0, 0, 0x80000000),         # any other is killed
  op(0x20, 0, 0, 0),                  # A = seccomp_data.nr
  op(0x35, 3, 0, 0x40000000),         # x32 system calls: refused
  op(0x15, 2, 0, $nr_socket),         # socket(2): refused
  op(0x15, 1, 0, $nr_io_uring_setup), # io_uring_setup(2): refused
  op(0x06, 0, 0, 0x7FFF0000),         # everything else: allowed
  op(0x06, 0, 0, 0x00050000 | 13);    # refused = EACCES
my $program = pack('S x6 Q', length($filter) / 8, unpack('Q', pack('p', $filter)));
syscall($nr_prctl, 38, 1, 0, 0, 0) == 0 or die "seccomp-exec: PR_SET_NO_NEW_PRIVS: $!\n";
syscall($nr_prctl, 22, 2, $program, 0, 0) == 0 or die "seccomp-exec: PR_SET_SECCOMP: $!\n";
exec { $ARGV[0] } @ARGV or die "seccomp-exec: $ARGV[0]: $!\n";
`;

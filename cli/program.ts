/**
 * The `be` program: its global options and every command, in the order `be --help` lists them. Apart
 * from cli/main.ts so the manual's generator (scripts/docs.ts) can read the commands without running one.
 */
import { Command } from 'commander';
import * as bisect from './bisect.js';
import * as bootnfs from './bootnfs.js';
import * as bootpxe from './bootpxe.js';
import { collect } from './common.js';
import * as config from './config.js';
import * as create from './create.js';
import * as destroy from './destroy.js';
import * as exports from './exports.js';
import * as fstab from './fstab.js';
import * as hunt from './hunt.js';
import * as install from './install.js';
import * as jail from './jail.js';
import * as leases from './leases.js';
import * as list from './list.js';
import * as mount from './mount.js';
import * as nfshandle from './nfshandle.js';
import * as serve from './serve.js';
import * as sharepxe from './sharepxe.js';
import * as sharenfs from './sharenfs.js';
import * as status from './status.js';
import * as umount from './umount.js';
import * as unsharenfs from './unsharenfs.js';
import * as vm from './vm.js';
import * as wol from './wol.js';

/** In the order `be --help` lists them: the appliance, then the talk's boot-environment life cycle. */
const commands = [
  serve,
  status,
  list,
  create,
  mount,
  umount,
  destroy,
  sharenfs,
  unsharenfs,
  install,
  jail,
  exports,
  fstab,
  nfshandle,
  bootnfs,
  vm,
  sharepxe,
  bootpxe,
  wol,
  hunt,
  bisect,
  leases,
  config,
];

export function buildProgram(): Command {
  const program = new Command('be')
    .description('network-boot appliance for FreeBSD boot environments')
    .option('-c, --config <file>', 'configuration file (default: /usr/local/etc/be.yaml, else the embedded default)')
    .option('--set <key=value>', 'override a configuration key, e.g. --set tftp.port=6969 (repeatable)', collect, [])
    .exitOverride();
  program.configureOutput({ outputError: (text, write) => write(text.split('\n')[0] + '\n') });
  for (const command of commands) command.register(program);
  for (const command of program.commands) command.exitOverride();
  return program;
}
